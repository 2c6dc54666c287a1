/* SPDX-License-Identifier: MIT */
/* The VMM enters here in 64-bit mode with rsp = this cpu's stack top and
 * rdi = cpu index. */
	.section .text.entry, "ax"
	.globl _start
_start:
	andq $-16, %rsp
	call guest_main
1:	hlt
	jmp 1b
	.section .note.GNU-stack, "", @progbits
