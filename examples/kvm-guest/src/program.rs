//! The guest: 78 bytes of hand-assembled 16-bit real-mode x86.
//!
//! It reads the table the VMM wrote in the high region, computes each entry's square, the sum,
//! the sum of the squares and the largest entry, stores them in both regions (see
//! [`layout`](crate::layout)), writes the sum to [`DONE_PORT`] and halts. It starts at
//! `CS:IP = 0:CODE_ADDR` with interrupts off, and touches no stack.

use crate::layout::{
    DONE_PORT, HIGH_BASE, LOW_BASE, MAX_ADDR, SQUARES_ADDR, SUM_ADDR, SUM_OF_SQUARES_ADDR,
    TABLE_ADDR, TABLE_ENTRIES_OFFSET,
};

/// Length of [`guest_program`] in bytes.
pub const PROGRAM_LEN: usize = 78;

/// The real-mode segment whose base is `HIGH_BASE` (the high region).
const HIGH_SEGMENT: u16 = (HIGH_BASE >> 4) as u16;

/// The 16-bit offset of `addr` in the high region's segment.
const fn high(addr: u64) -> [u8; 2] {
    ((addr - HIGH_BASE) as u16).to_le_bytes()
}

/// The 16-bit offset of `addr` in segment 0 (the low region).
const fn low(addr: u64) -> [u8; 2] {
    ((addr - LOW_BASE) as u16).to_le_bytes()
}

/// The guest program's machine code. Each line is one instruction: its bytes, then its
/// mnemonic (Intel syntax). `ds` points at the high region, `es` at the low one.
pub fn guest_program() -> [u8; PROGRAM_LEN] {
    let [seg0, seg1] = HIGH_SEGMENT.to_le_bytes();
    let [count0, count1] = high(TABLE_ADDR);
    let [first0, first1] = high(TABLE_ADDR + TABLE_ENTRIES_OFFSET);
    let [sq0, sq1] = low(SQUARES_ADDR);
    let [sum0, sum1] = low(SUM_ADDR);
    let [ssq0, ssq1] = high(SUM_OF_SQUARES_ADDR);
    let [max0, max1] = high(MAX_ADDR);
    #[rustfmt::skip]
    let code = [
        0xb8, seg0, seg1,          // 00: mov ax, HIGH_SEGMENT
        0x8e, 0xd8,                // 03: mov ds, ax            ; ds = high region
        0x31, 0xc0,                // 05: xor ax, ax
        0x8e, 0xc0,                // 07: mov es, ax            ; es = low region
        0x8b, 0x0e, count0, count1, // 09: mov cx, [TABLE]      ; entry count
        0xbe, first0, first1,      // 0d: mov si, TABLE + 4     ; first entry
        0xbf, sq0, sq1,            // 10: mov di, SQUARES
        0x31, 0xdb,                // 13: xor bx, bx            ; bx = sum
        0x31, 0xd2,                // 15: xor dx, dx            ; dx = maximum
        0x66, 0x31, 0xed,          // 17: xor ebp, ebp          ; ebp = sum of squares
        0xe3, 0x1f,                // 1a: jcxz done (3b)        ; empty table
        // top:
        0x66, 0x0f, 0xb7, 0x04,    // 1c: movzx eax, word [si]  ; x
        0x01, 0xc3,                // 20: add bx, ax
        0x39, 0xc2,                // 22: cmp dx, ax
        0x73, 0x02,                // 24: jae 28
        0x89, 0xc2,                // 26: mov dx, ax            ; new maximum
        0x66, 0x0f, 0xaf, 0xc0,    // 28: imul eax, eax         ; x * x
        0x26, 0x66, 0x89, 0x05,    // 2c: mov es:[di], eax      ; store the square
        0x66, 0x01, 0xc5,          // 30: add ebp, eax
        0x83, 0xc6, 0x02,          // 33: add si, 2
        0x83, 0xc7, 0x04,          // 36: add di, 4
        0xe2, 0xe1,                // 39: loop top (1c)
        // done:
        0x26, 0x89, 0x1e, sum0, sum1, // 3b: mov es:[SUM], bx
        0x66, 0x89, 0x2e, ssq0, ssq1, // 40: mov [SUM_OF_SQUARES], ebp
        0x89, 0x16, max0, max1,    // 45: mov [MAX], dx
        0x89, 0xd8,                // 49: mov ax, bx
        0xe7, DONE_PORT as u8,     // 4b: out DONE_PORT, ax     ; completion, with the sum
        0xf4,                      // 4d: hlt
    ];
    code
}

const _: () = assert!(DONE_PORT <= 0xff); // `out imm8, ax`

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_encoded_as_the_layout_says() {
        let code = guest_program();
        assert_eq!(&code[1..3], &0x2000u16.to_le_bytes()); // 0x20000 >> 4
        assert_eq!(&code[11..13], &[0, 0]); // the count at offset 0 of the high segment
        assert_eq!(&code[14..16], &4u16.to_le_bytes());
        assert_eq!(&code[17..19], &0x4ff0u16.to_le_bytes());
        assert_eq!(&code[0x3e..0x40], &0x6000u16.to_le_bytes());
        assert_eq!(&code[0x43..0x45], &0x3000u16.to_le_bytes());
        assert_eq!(&code[0x47..0x49], &0xfffeu16.to_le_bytes());
        assert_eq!(code[0x4c], 0x10);
        assert_eq!(code[PROGRAM_LEN - 1], 0xf4); // ends with hlt
    }

    #[test]
    fn branches_land_on_instruction_starts() {
        let code = guest_program();
        // rel8 displacements count from the end of the two-byte branch.
        let target = |at: usize| (at as isize + 2 + code[at + 1] as i8 as isize) as usize;
        assert_eq!(target(0x1a), 0x3b); // jcxz done
        assert_eq!(target(0x24), 0x28); // jae over the new maximum
        assert_eq!(target(0x39), 0x1c); // loop top
    }
}
