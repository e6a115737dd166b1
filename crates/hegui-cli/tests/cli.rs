//! Integration tests of the `hegui` binary, one module per topic (a single test binary keeps
//! link time down). Shared helpers live in `util`.

mod util;

mod basics;

mod keys;

mod assess;

mod rules;

mod scan;

mod lexicon;

mod label;

mod audit;

mod hgr;

mod serve;

mod admin;

mod fleet;

mod toolkit;

mod browser;
