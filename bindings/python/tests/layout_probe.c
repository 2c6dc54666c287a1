/* SPDX-License-Identifier: MIT */
/* Prints "struct field offset size" for every field of every public struct
 * (field "sizeof": the struct's size), from the table scripts/gen-layout
 * writes, so the Python binding's unittest can compare its ctypes mirrors
 * with the C compiler's layout. */
#include <stdio.h>

#include "../../rust/vtime-sys/csrc/layout.c"

int main(void)
{
	for (const struct vtime_sys_layout_entry *e = vtime_sys_layout; e->type; e++)
		printf("%s %s %zu %zu\n", e->type, e->field, e->offset, e->size);
	return 0;
}
