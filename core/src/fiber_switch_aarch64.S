/* Fiber context switch for AArch64 (AAPCS64, ELF). Frame of a suspended fiber, from the saved sp
 * upwards, shared with init_first_frame() in fiber.c (176 bytes, keeps sp 16-byte aligned):
 *   +0 x19..x28, +80 x29, +88 x30, +96 d8..d15, +160 FPCR, +168 padding
 * Only callee-saved state is kept; FPCR is kept so each fiber has its own rounding mode. */
#if defined(__aarch64__) && defined(__ELF__) && !defined(__ILP32__) && !defined(NMRH_FIBER_UCONTEXT)

	.text

/* void *nmrh_fiber_asm_swap(void **save_sp, void *new_sp, void *transfer) */
	.globl	nmrh_fiber_asm_swap
	.hidden	nmrh_fiber_asm_swap
	.type	nmrh_fiber_asm_swap, %function
	.p2align 4
nmrh_fiber_asm_swap:
	sub	sp, sp, #176
	stp	x19, x20, [sp, #0]
	stp	x21, x22, [sp, #16]
	stp	x23, x24, [sp, #32]
	stp	x25, x26, [sp, #48]
	stp	x27, x28, [sp, #64]
	stp	x29, x30, [sp, #80]
	stp	d8, d9, [sp, #96]
	stp	d10, d11, [sp, #112]
	stp	d12, d13, [sp, #128]
	stp	d14, d15, [sp, #144]
	mrs	x9, fpcr
	str	x9, [sp, #160]
	mov	x9, sp
	str	x9, [x0]
	mov	sp, x1
	ldr	x9, [sp, #160]
	msr	fpcr, x9
	ldp	x19, x20, [sp, #0]
	ldp	x21, x22, [sp, #16]
	ldp	x23, x24, [sp, #32]
	ldp	x25, x26, [sp, #48]
	ldp	x27, x28, [sp, #64]
	ldp	x29, x30, [sp, #80]
	ldp	d8, d9, [sp, #96]
	ldp	d10, d11, [sp, #112]
	ldp	d12, d13, [sp, #128]
	ldp	d14, d15, [sp, #144]
	add	sp, sp, #176
	mov	x0, x2
	ret
	.size	nmrh_fiber_asm_swap, .-nmrh_fiber_asm_swap

/* A new fiber's first swap returns here with x19 = the fiber, x20 = fiber_start and x0 = the
 * fiber that switched to it. fiber_start never returns. */
	.globl	nmrh_fiber_asm_trampoline
	.hidden	nmrh_fiber_asm_trampoline
	.type	nmrh_fiber_asm_trampoline, %function
	.p2align 4
nmrh_fiber_asm_trampoline:
	.cfi_startproc
	.cfi_undefined x30	/* outermost frame: stop debuggers and unwinders here */
	mov	x1, x0
	mov	x0, x19
	blr	x20
	brk	#0
	.cfi_endproc
	.size	nmrh_fiber_asm_trampoline, .-nmrh_fiber_asm_trampoline

#endif

#if defined(__ELF__)
	.section .note.GNU-stack,"",%progbits
#endif
