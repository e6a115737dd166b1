//! Containing a decoder's panic: a call into a third-party decoder whose panic becomes an error
//! message, printed nowhere.
//!
//! Why: the `parquet` crate asserts on some corrupt files instead of returning an error (its
//! bit reader's `size <= src.len()`, negative column chunk offsets in the metadata, a missing
//! dictionary decoder; about one random corruption in 200 of a small file, found by the
//! corruption property test in `tests/parquet.rs`). A user's broken file must get an error that
//! names it, not a crash of an audit that may have run for an hour.
//!
//! How: `catch_unwind` around the call, and a panic hook, installed once, that stays silent for
//! a panic raised inside [`contain`] on the same thread and hands every other panic to the hook
//! that was there before. A hook that the application sets later replaces it: such a panic is
//! still contained, only its message is printed by that hook. With `panic = "abort"` nothing
//! can be contained; hegui's profiles unwind.

use std::cell::Cell;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Once;

thread_local! {
    /// Whether this thread is inside [`contain`].
    static CONTAINING: Cell<bool> = const { Cell::new(false) };
}

static QUIET_HOOK: Once = Once::new();

/// Runs `call`; a panic inside it is returned as its message. Whatever `call` touched must not
/// be used after a panic (the caller drops the decoder and reports the file as corrupt).
pub(crate) fn contain<T>(call: impl FnOnce() -> T) -> Result<T, String> {
    QUIET_HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !CONTAINING.with(Cell::get) {
                previous(info);
            }
        }));
    });
    let outer = CONTAINING.with(|c| c.replace(true));
    let result = catch_unwind(AssertUnwindSafe(call));
    CONTAINING.with(|c| c.set(outer));
    result.map_err(|payload| {
        payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic without a message".to_owned())
    })
}

#[cfg(test)]
mod tests {
    use super::contain;

    #[test]
    fn a_panic_becomes_its_message_and_values_pass_through() {
        assert_eq!(contain(|| 7), Ok(7));
        assert_eq!(
            contain(|| -> u8 { panic!("size {} > {}", 9, 4) }),
            Err("size 9 > 4".to_owned())
        );
        assert_eq!(
            contain(|| -> u8 { std::panic::panic_any(17u32) }),
            Err("a panic without a message".to_owned())
        );
        // Nested: the inner panic is contained and the outer call goes on.
        assert_eq!(
            contain(|| contain(|| -> u8 { panic!("inner") })),
            Ok(Err("inner".to_owned()))
        );
    }
}
