//! `hegui label` tests (added with its issue).
