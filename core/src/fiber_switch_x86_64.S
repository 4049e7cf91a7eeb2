/* Fiber context switch for x86-64 System V (ELF). Layout of a suspended fiber's stack, from the
 * saved sp upwards, shared with init_first_frame() in fiber.c:
 *   +0 x87 control word, +8 MXCSR, +16 r15, r14, r13, r12, rbx, rbp, +64 return address
 * Only callee-saved state is kept: the caller of nmrh_fiber_asm_swap already treats every other
 * register as clobbered. The FP control words are callee-saved per the ABI, and keeping them
 * per fiber stops a rounding-mode change in one fiber from leaking into another. The signal mask
 * is deliberately not touched; that syscall is what makes swapcontext slow. */
#if defined(__x86_64__) && defined(__ELF__) && !defined(__ILP32__) && !defined(NMRH_FIBER_UCONTEXT)

	.text

/* void *nmrh_fiber_asm_swap(void **save_sp, void *new_sp, void *transfer)
 * Returns, in the resumed context, the `transfer` of whoever switched to it. */
	.globl	nmrh_fiber_asm_swap
	.hidden	nmrh_fiber_asm_swap
	.type	nmrh_fiber_asm_swap, @function
	.p2align 4
nmrh_fiber_asm_swap:
	.cfi_startproc
	pushq	%rbp
	.cfi_adjust_cfa_offset 8
	pushq	%rbx
	.cfi_adjust_cfa_offset 8
	pushq	%r12
	.cfi_adjust_cfa_offset 8
	pushq	%r13
	.cfi_adjust_cfa_offset 8
	pushq	%r14
	.cfi_adjust_cfa_offset 8
	pushq	%r15
	.cfi_adjust_cfa_offset 8
	subq	$16, %rsp
	.cfi_adjust_cfa_offset 16
	stmxcsr	8(%rsp)
	fnstcw	(%rsp)
	movq	%rsp, (%rdi)
	/* Both stacks hold an identical frame here, so the CFI stays valid across the switch. */
	movq	%rsi, %rsp
	/* Unconditional: skipping the loads when the modes match measured slower (store-forwarding
	 * from stmxcsr), and loading the saved MXCSR status bits is harmless (caller-saved). */
	ldmxcsr	8(%rsp)
	fldcw	(%rsp)
	addq	$16, %rsp
	.cfi_adjust_cfa_offset -16
	popq	%r15
	.cfi_adjust_cfa_offset -8
	popq	%r14
	.cfi_adjust_cfa_offset -8
	popq	%r13
	.cfi_adjust_cfa_offset -8
	popq	%r12
	.cfi_adjust_cfa_offset -8
	popq	%rbx
	.cfi_adjust_cfa_offset -8
	popq	%rbp
	.cfi_adjust_cfa_offset -8
	movq	%rdx, %rax
	/* pop+jmp rather than ret: the return stack buffer predicts a return into the fiber that
	 * called us, so ret mispredicts on every switch, while the indirect-branch predictor learns
	 * the switch pattern (measured 13 ns -> 6 ns per switch). */
	popq	%rcx
	.cfi_adjust_cfa_offset -8
	.cfi_register rip, rcx
	jmpq	*%rcx
	.cfi_endproc
	.size	nmrh_fiber_asm_swap, .-nmrh_fiber_asm_swap

/* A new fiber's first swap "returns" here with r12 = the fiber, r13 = fiber_start and
 * rax = the fiber that switched to it; rsp is 16-byte aligned. fiber_start never returns. */
	.globl	nmrh_fiber_asm_trampoline
	.hidden	nmrh_fiber_asm_trampoline
	.type	nmrh_fiber_asm_trampoline, @function
	.p2align 4
nmrh_fiber_asm_trampoline:
	.cfi_startproc
	.cfi_undefined rip	/* outermost frame: stop debuggers and unwinders here */
	movq	%r12, %rdi
	movq	%rax, %rsi
	callq	*%r13
	ud2
	.cfi_endproc
	.size	nmrh_fiber_asm_trampoline, .-nmrh_fiber_asm_trampoline

#endif

#if defined(__ELF__)
	.section .note.GNU-stack,"",%progbits
#endif
