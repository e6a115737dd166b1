//! `hegui scan` tests (added with its issue).
