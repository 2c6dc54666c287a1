/* SPDX-License-Identifier: MIT */
/* The vtime tool's JSON strings (tools/vtime/out.c): always valid UTF-8
 * JSON whatever the bytes (a CPUID signature, a sysfs name): escapes,
 * control characters, well-formed UTF-8 kept, every malformed byte one
 * U+FFFD (overlong forms, surrogates, beyond U+10FFFF, truncated, stray
 * continuation bytes). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vt_tool.h"
#include "vt_test.h"

static char *json_of(const char *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	CU_ASSERT_FATAL(f != NULL);
	vj_string(f, s);
	fclose(f);
	return buf;
}

static void expect(const char *in, const char *want)
{
	char *got = json_of(in);
	if (strcmp(got, want) != 0)
		fprintf(stderr, "json of %s: got %s, want %s\n", in, got, want);
	CU_ASSERT_STRING_EQUAL(got, want);
	free(got);
}

static void test_ascii_and_escapes(void)
{
	expect("KVMKVMKVM", "\"KVMKVMKVM\"");
	expect("", "\"\"");
	expect("a\"b\\c", "\"a\\\"b\\\\c\"");
	expect("tab\there\nnl\x01\x1f\x7f", "\"tab\\u0009here\\u000anl\\u0001\\u001f\\u007f\"");
}

static void test_valid_utf8_kept(void)
{
	expect("caf\xc3\xa9", "\"caf\xc3\xa9\"");                 /* U+00E9 */
	expect("\xe2\x82\xac", "\"\xe2\x82\xac\"");                 /* U+20AC */
	expect("\xf0\x9f\x98\x80", "\"\xf0\x9f\x98\x80\"");         /* U+1F600 */
	expect("\xf4\x8f\xbf\xbf", "\"\xf4\x8f\xbf\xbf\"");         /* U+10FFFF */
	expect("\xed\x9f\xbf", "\"\xed\x9f\xbf\"");                 /* U+D7FF */
}

static void test_malformed_replaced(void)
{
	expect("\x80", "\"\\ufffd\"");                      /* stray continuation */
	expect("\xff\xfe", "\"\\ufffd\\ufffd\"");
	expect("\xc0\xaf", "\"\\ufffd\\ufffd\"");           /* overlong '/' */
	expect("\xe0\x80\xaf", "\"\\ufffd\\ufffd\\ufffd\""); /* overlong, 3 bytes */
	expect("\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\""); /* surrogate U+D800 */
	expect("\xf4\x90\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\""); /* above U+10FFFF */
	expect("a\xe2\x82", "\"a\\ufffd\\ufffd\"");         /* truncated at the end */
	expect("\xe2\x82z", "\"\\ufffd\\ufffdz\"");         /* truncated before ASCII */
	expect("Micr\xf8soft", "\"Micr\\ufffdsoft\"");      /* a CPUID byte */
}

static const struct vt_test_case cases[] = {
	{ "ascii and escapes", test_ascii_and_escapes },
	{ "valid utf-8 kept", test_valid_utf8_kept },
	{ "malformed bytes replaced", test_malformed_replaced },
	{ NULL, NULL },
};

int main(void)
{
	static const struct vt_test_suite suites[] = { { "tool json", cases }, { NULL, NULL } };
	return vt_test_main(suites);
}
