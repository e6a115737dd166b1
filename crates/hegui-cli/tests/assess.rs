//! `hegui assess` tests (added with its issue).
