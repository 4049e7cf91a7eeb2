/*
 * ___chkstk_ms for the Linux cross-build of nmrstress.exe (stress/kernel/build_kernel.sh only):
 * mingw-w64's C runtime calls it to touch each new stack page of a large frame, and it normally
 * comes from libgcc, which a clang-only mingw-w64 toolchain (Debian's mingw-w64-x86-64-dev without
 * gcc-mingw-w64) does not have. The same probe as libgcc's: RAX holds the frame size; every page
 * from the stack pointer down is touched in order; RCX and RAX are preserved.
 * Never linked into the driver: kernel code is built with -mno-stack-arg-probe and small frames.
 */
    .text
    .globl ___chkstk_ms
___chkstk_ms:
    pushq %rcx
    pushq %rax
    cmpq $0x1000, %rax
    leaq 24(%rsp), %rcx
    jb 2f
1:  subq $0x1000, %rcx
    orq $0, (%rcx)
    subq $0x1000, %rax
    cmpq $0x1000, %rax
    ja 1b
2:  subq %rax, %rcx
    orq $0, (%rcx)
    popq %rax
    popq %rcx
    ret
