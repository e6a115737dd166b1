//! `hegui lexicon` tests (added with its issue).
