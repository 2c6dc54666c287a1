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
 * symbols). 64-bit images only (32-bit targets keep libc's wrapper: their
 * vDSO's clock_gettime takes a 32-bit time_t). Signal-safe: reads only. */
#include <elf.h>
#include <string.h>
#include <sys/auxv.h>
#include <vtime/error.h>

#include "vt_clock_int.h"

#if UINTPTR_MAX > 0xffffffffu && defined(AT_SYSINFO_EHDR)

#if defined(__x86_64__) || defined(__riscv)
#define VDSO_NAME "__vdso_clock_gettime"
#elif defined(__aarch64__) || defined(__s390x__)
#define VDSO_NAME "__kernel_clock_gettime"
#endif

int vt_vdso_gettime(vt_gettime_fn *out)
{
#ifdef VDSO_NAME
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)(uintptr_t)getauxval(AT_SYSINFO_EHDR);
	const Elf64_Phdr *ph;
	const Elf64_Dyn *dyn = NULL;
	const Elf64_Sym *sym = NULL;
	const char *str = NULL;
	const Elf32_Word *hash = NULL;
	uintptr_t base, bias = 0;
	bool have_load = false;

	if (!out)
		return VTIME_EINVAL;
	*out = NULL;
	if (!eh || memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 || eh->e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh->e_phentsize != sizeof(Elf64_Phdr))
		return VTIME_ENODEV;
	base = (uintptr_t)eh;
	ph = (const Elf64_Phdr *)(base + eh->e_phoff);
	for (unsigned i = 0; i < eh->e_phnum; i++) {
		if (ph[i].p_type == PT_LOAD && !have_load) {
			bias = base + ph[i].p_offset - ph[i].p_vaddr;
			have_load = true;
		} else if (ph[i].p_type == PT_DYNAMIC) {
			dyn = (const Elf64_Dyn *)(base + ph[i].p_offset);
		}
	}
	if (!have_load || !dyn)
		return VTIME_ENODEV;
	for (; dyn->d_tag != DT_NULL; dyn++) {
		if (dyn->d_tag == DT_SYMTAB)
			sym = (const Elf64_Sym *)(bias + dyn->d_un.d_ptr);
		else if (dyn->d_tag == DT_STRTAB)
			str = (const char *)(bias + dyn->d_un.d_ptr);
		else if (dyn->d_tag == DT_HASH)
			hash = (const Elf32_Word *)(bias + dyn->d_un.d_ptr);
	}
	if (!sym || !str || !hash)
		return VTIME_ENODEV; /* no SysV hash table: the symbol count is unknown */
	for (Elf32_Word i = 0; i < hash[1]; i++) {
		if (ELF64_ST_TYPE(sym[i].st_info) != STT_FUNC || sym[i].st_shndx == SHN_UNDEF ||
		    (ELF64_ST_BIND(sym[i].st_info) != STB_GLOBAL && ELF64_ST_BIND(sym[i].st_info) != STB_WEAK))
			continue;
		if (strcmp(str + sym[i].st_name, VDSO_NAME) == 0) {
			*out = (vt_gettime_fn)(bias + sym[i].st_value);
			return 0;
		}
	}
	return VTIME_ENODEV;
#else
	if (!out)
		return VTIME_EINVAL;
	*out = NULL;
	return VTIME_ENOTSUP;
#endif
}

#else
int vt_vdso_gettime(vt_gettime_fn *out)
{
	if (!out)
		return VTIME_EINVAL;
	*out = NULL;
	return VTIME_ENOTSUP;
}
#endif

/* The same walk as above for this process's word size, to the name only. */
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

bool vt_vdso_has(const char *name)
{
	const vt_ehdr *eh = (const vt_ehdr *)(uintptr_t)getauxval(AT_SYSINFO_EHDR);
	const vt_phdr *ph;
	const vt_dyn *dyn = NULL;
	const vt_sym *sym = NULL;
	const char *str = NULL;
	const Elf32_Word *hash = NULL;
	uintptr_t base, bias = 0;
	bool have_load = false;

	if (!name || !eh || memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 || eh->e_ident[EI_CLASS] != VT_ELFCLASS ||
	    eh->e_phentsize != sizeof(vt_phdr))
		return false;
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
		return false;
	for (; dyn->d_tag != DT_NULL; dyn++) {
		if (dyn->d_tag == DT_SYMTAB)
			sym = (const vt_sym *)(bias + dyn->d_un.d_ptr);
		else if (dyn->d_tag == DT_STRTAB)
			str = (const char *)(bias + dyn->d_un.d_ptr);
		else if (dyn->d_tag == DT_HASH)
			hash = (const Elf32_Word *)(bias + dyn->d_un.d_ptr);
	}
	if (!sym || !str || !hash)
		return false;
	/* a symbol the kernel removed at boot has st_name 0: "" matches nothing */
	for (Elf32_Word i = 0; i < hash[1]; i++)
		if (VT_ST_TYPE(sym[i].st_info) == STT_FUNC && sym[i].st_shndx != SHN_UNDEF &&
		    (VT_ST_BIND(sym[i].st_info) == STB_GLOBAL || VT_ST_BIND(sym[i].st_info) == STB_WEAK) &&
		    strcmp(str + sym[i].st_name, name) == 0)
			return true;
	return false;
}
#else
bool vt_vdso_has(const char *name)
{
	(void)name;
	return false;
}
#endif
