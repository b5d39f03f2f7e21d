//! Startup code: the entry point, the exception vectors and the jump into Rust.
//!
//! QEMU's `virt` board starts an ELF image at its entry point on one CPU, at EL1, with the MMU
//! off. Before any Rust code runs we untrap the FP/SIMD registers (compiled Rust uses them),
//! install the exception vectors, set the stack and clear `.bss`.

use core::arch::global_asm;

global_asm!(
    r#"
    .section .text.boot, "ax"
    .global _start
_start:
    // Only CPU 0 runs the program; any other CPU parks.
    mrs     x0, mpidr_el1
    and     x0, x0, #0xff
    cbnz    x0, 9f

    // The code below assumes EL1 (QEMU's default for `-M virt`); park anywhere else.
    mrs     x0, CurrentEL
    cmp     x0, #(1 << 2)
    b.ne    9f

    // CPACR_EL1.FPEN = 0b11: no trap on FP/SIMD instructions.
    mov     x0, #(3 << 20)
    msr     cpacr_el1, x0

    adrp    x0, exception_vectors
    add     x0, x0, :lo12:exception_vectors
    msr     vbar_el1, x0
    isb

    adrp    x0, __stack_top
    add     x0, x0, :lo12:__stack_top
    mov     sp, x0

    // Clear .bss; the linker script aligns both ends to 16 bytes.
    adrp    x0, __bss_start
    add     x0, x0, :lo12:__bss_start
    adrp    x1, __bss_end
    add     x1, x1, :lo12:__bss_end
1:  cmp     x0, x1
    b.hs    2f
    stp     xzr, xzr, [x0], #16
    b       1b

2:  bl      kmain
9:  wfe
    b       9b

    // Sixteen vectors of 128 bytes; each passes its index to the Rust handler, with the
    // syndrome, the faulting address and the return address.
    .section .text.vectors, "ax"
    .balign 0x800
exception_vectors:
    .irp    index, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15
    .balign 0x80
    mov     x0, #\index
    mrs     x1, esr_el1
    mrs     x2, elr_el1
    mrs     x3, far_el1
    b       exception
    .endr
"#
);
