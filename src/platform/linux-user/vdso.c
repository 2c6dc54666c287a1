/* SPDX-License-Identifier: MIT */
/* The vDSO's clock_gettime, found once in the image the kernel maps into
 * every process (getauxval(AT_SYSINFO_EHDR), vdso(7)): the clock_gettime
 * source calls it directly instead of through libc's wrapper, which costs
 * about a nanosecond before it gets there (on a 28 ns vDSO read, the
 * difference between 1.05x and 1.01x). The vDSO falls back to the system
 * call itself for clocks it cannot read, so its answer is always the time.
 *
 * The lookup follows the ELF specification: the program headers give the
 * load bias and the dynamic section, which gives the symbol and string
 * tables and the SysV hash table (its chain count is the number of
 * symbols), in an image of this process's word size. The call itself is
 * taken from 64-bit images only (32-bit targets keep libc's wrapper: their
 * vDSO's clock_gettime takes a 32-bit time_t); vt_vdso_has() (armv7's
 * user-access rule, counter.c) asks either kind. Signal-safe: reads only. */
#include <elf.h>
#include <string.h>
#include <sys/auxv.h>
#include <vtime/error.h>

#include "vt_clock_int.h"

#if defined(AT_SYSINFO_EHDR)
#if UINTPTR_MAX > 0xffffffffu
typedef Elf64_Ehdr vt_ehdr;
typedef Elf64_Phdr vt_phdr;
typedef Elf64_Dyn vt_dyn;
typedef Elf64_Sym vt_sym;
#define VT_ELFCLASS ELFCLASS64
#define VT_ST_TYPE ELF64_ST_TYPE
#define VT_ST_BIND ELF64_ST_BIND
#else
typedef Elf32_Ehdr vt_ehdr;
typedef Elf32_Phdr vt_phdr;
typedef Elf32_Dyn vt_dyn;
typedef Elf32_Sym vt_sym;
#define VT_ELFCLASS ELFCLASS32
#define VT_ST_TYPE ELF32_ST_TYPE
#define VT_ST_BIND ELF32_ST_BIND
#endif

/* The address of the vDSO's function name, 0 if the image (of this
 * process's word size) has none. A symbol the kernel removed at boot (as
 * 32-bit Arm does with the clock functions when the counter is not
 * readable) has st_name 0, and "" matches no name. */
static uintptr_t vdso_sym(const char *name)
{
	const vt_ehdr *eh = (const vt_ehdr *)(uintptr_t)getauxval(AT_SYSINFO_EHDR);
	const vt_phdr *ph;
	const vt_dyn *dyn = NULL;
	const vt_sym *sym = NULL;
	const char *str = NULL;
	const Elf32_Word *hash = NULL;
	uintptr_t base, bias = 0;
	bool have_load = false;

	if (!eh || memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 || eh->e_ident[EI_CLASS] != VT_ELFCLASS ||
	    eh->e_phentsize != sizeof(vt_phdr))
		return 0;
	base = (uintptr_t)eh;
	ph = (const vt_phdr *)(base + eh->e_phoff);
	for (unsigned i = 0; i < eh->e_phnum; i++) {
		if (ph[i].p_type == PT_LOAD && !have_load) {
			bias = base + ph[i].p_offset - ph[i].p_vaddr;
			have_load = true;
		} else if (ph[i].p_type == PT_DYNAMIC) {
			dyn = (const vt_dyn *)(base + ph[i].p_offset);
		}
	}
	if (!have_load || !dyn)
		return 0;
	for (; dyn->d_tag != DT_NULL; dyn++) {
		if (dyn->d_tag == DT_SYMTAB)
			sym = (const vt_sym *)(bias + dyn->d_un.d_ptr);
		else if (dyn->d_tag == DT_STRTAB)
			str = (const char *)(bias + dyn->d_un.d_ptr);
		else if (dyn->d_tag == DT_HASH)
			hash = (const Elf32_Word *)(bias + dyn->d_un.d_ptr);
	}
	if (!sym || !str || !hash)
		return 0; /* no SysV hash table: the symbol count is unknown */
	for (Elf32_Word i = 0; i < hash[1]; i++)
		if (VT_ST_TYPE(sym[i].st_info) == STT_FUNC && sym[i].st_shndx != SHN_UNDEF &&
		    (VT_ST_BIND(sym[i].st_info) == STB_GLOBAL || VT_ST_BIND(sym[i].st_info) == STB_WEAK) &&
		    strcmp(str + sym[i].st_name, name) == 0)
			return bias + sym[i].st_value;
	return 0;
}

bool vt_vdso_has(const char *name)
{
	return name && vdso_sym(name) != 0;
}
#else
static uintptr_t vdso_sym(const char *name)
{
	(void)name;
	return 0;
}

bool vt_vdso_has(const char *name)
{
	(void)name;
	return false;
}
#endif

/* 64-bit images only for the call itself: a 32-bit vDSO's clock_gettime
 * takes a 32-bit time_t. */
#if UINTPTR_MAX > 0xffffffffu && (defined(__x86_64__) || defined(__riscv))
#define VDSO_NAME "__vdso_clock_gettime"
#elif UINTPTR_MAX > 0xffffffffu && (defined(__aarch64__) || defined(__s390x__))
#define VDSO_NAME "__kernel_clock_gettime"
#endif

int vt_vdso_gettime(vt_gettime_fn *out)
{
	if (!out)
		return VTIME_EINVAL;
	*out = NULL;
#ifdef VDSO_NAME
	{
		uintptr_t f = vdso_sym(VDSO_NAME);
		if (!f)
			return VTIME_ENODEV;
		*out = (vt_gettime_fn)f;
		return 0;
	}
#else
	return VTIME_ENOTSUP;
#endif
}
