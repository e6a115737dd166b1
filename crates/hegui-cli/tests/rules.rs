//! `hegui rules` tests (added with its issue).
