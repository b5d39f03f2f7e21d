//! Runs named checks and reports each, and the total, over the UART.

use core::fmt::{self, Debug};

use crate::uart::println;

/// The expectations of one check.
#[derive(Debug)]
pub struct Check {
    expectations: u32,
    failures: u32,
}

impl Check {
    /// Expects `ok`; prints `what` if it does not hold.
    pub fn expect(&mut self, ok: bool, what: fmt::Arguments<'_>) {
        self.expectations += 1;
        if !ok {
            self.failures += 1;
            println!("   not as expected: {what}");
        }
    }

    /// Expects `got == want`; prints both if not.
    pub fn expect_eq<T: PartialEq + Debug>(&mut self, what: &str, got: T, want: T) {
        self.expect(
            got == want,
            format_args!("{what}: got {got:?}, want {want:?}"),
        );
    }

    /// Shows an observation in the log (for example the error an access returned).
    pub fn note(&self, what: fmt::Arguments<'_>) {
        println!("   {what}");
    }
}

/// The tally of all checks run so far.
#[derive(Debug, Default)]
pub struct Report {
    passed: u32,
    failed: u32,
}

impl Report {
    /// Runs `check` and prints its verdict: it passes if every expectation held and there was
    /// at least one.
    pub fn run(&mut self, name: &str, check: fn(&mut Check)) {
        println!("-- {name}");
        let mut c = Check {
            expectations: 0,
            failures: 0,
        };
        check(&mut c);
        if c.failures == 0 && c.expectations > 0 {
            self.passed += 1;
            println!("[ ok ] {name} ({} expectations)", c.expectations);
        } else {
            self.failed += 1;
            println!(
                "[FAIL] {name} ({} of {} expectations failed)",
                c.failures, c.expectations
            );
        }
    }

    /// Prints the summary and the final verdict line; returns whether every check passed.
    pub fn finish(&self) -> bool {
        let total = self.passed + self.failed;
        if self.failed == 0 && total > 0 {
            println!("PASS: all {total} checks passed");
            true
        } else {
            println!("FAIL: {} of {total} checks failed", self.failed);
            false
        }
    }
}
