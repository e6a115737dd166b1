//! `hegui hgr` tests (added with its issue).
