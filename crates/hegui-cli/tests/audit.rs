//! `hegui audit` tests (added with its issue).
