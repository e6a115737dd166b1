//! The first admission guard: who the end user is. The request's `user` field names them, or
//! the configured header (`guard.user-header`, default `x-hegui-user`, UTF-8); a request that
//! names none is [`ANONYMOUS`] and is never sanctioned (that would punish every such user). A
//! real id spelled `anonymous` is an end user like any other: its state is kept apart.
//!
//! One rule makes an id, so that one person cannot appear as many ids and slip past a sanction:
//! NFKC (full-width `ｍａｌｌｏｒｙ` is `mallory`), then surrounding white space trimmed, then
//! lower case if `guard.case-insensitive-users` is set (off by default: many providers' ids are
//! case-sensitive). An id is refused (400 `invalid_user`) when it is not a string, is longer
//! than 256 bytes, or holds a control character (C0, C1, DEL: a newline would forge log lines;
//! a trailing NUL) or an invisible format character (zero-width space and joiners, soft hyphen,
//! bidi controls, word joiner, BOM).

use futures_util::future::BoxFuture;
use unicode_normalization::UnicodeNormalization as _;

use super::{Admission, Caller, Refusal, RequestMeta};
use crate::error::AppError;

/// The end user of requests that name none.
pub(crate) const ANONYMOUS: &str = "anonymous";

/// The longest end-user id accepted, in bytes.
const MAX_LEN: usize = 256;

/// Resolves the end user of a request.
pub(crate) struct EndUser {
    header: String,
    case_insensitive: bool,
}

impl EndUser {
    pub(crate) fn new(header: &str, case_insensitive: bool) -> EndUser {
        EndUser {
            header: header.to_owned(),
            case_insensitive,
        }
    }

    /// The end user a request names (by the one rule of this module), if any, or why the id
    /// is refused.
    pub(crate) fn named(&self, request: RequestMeta<'_>) -> Result<Option<String>, &'static str> {
        let Some(raw) = self.raw(request)? else {
            return Ok(None);
        };
        if raw.len() > MAX_LEN {
            return Err("end user id is longer than 256 bytes");
        }
        if raw
            .chars()
            .any(|c| c.is_control() || is_invisible_format(c))
        {
            return Err("end user id holds a control or invisible format character");
        }
        let normalized: String = raw.nfkc().collect();
        let mut id = normalized.trim().to_owned();
        if self.case_insensitive {
            id = id.to_lowercase();
        }
        if id.chars().any(|c| c.is_control() || is_invisible_format(c)) {
            return Err("end user id holds a control or invisible format character");
        }
        Ok((!id.is_empty()).then_some(id))
    }

    /// The id as the request gives it.
    fn raw<'a>(&self, request: RequestMeta<'a>) -> Result<Option<&'a str>, &'static str> {
        let user = match request.user {
            Some(user) => Some(user),
            None => match request.headers.get(self.header.as_str()) {
                Some(value) => Some(
                    std::str::from_utf8(value.as_bytes())
                        .map_err(|_| "the end-user header is not UTF-8")?,
                ),
                None => None,
            },
        };
        Ok(user.filter(|u| !u.is_empty()))
    }
}

/// Unicode format characters (category Cf) that render as nothing and are used to make one
/// string look like another.
fn is_invisible_format(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{061C}' | '\u{180E}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{206F}' | '\u{FEFF}' | '\u{FFF9}'..='\u{FFFB}')
}

impl Admission for EndUser {
    fn name(&self) -> &'static str {
        "end_user"
    }

    fn admit<'a>(
        &'a self,
        caller: &'a mut Caller,
        request: RequestMeta<'a>,
    ) -> BoxFuture<'a, Result<(), Refusal>> {
        let result = match self.named(request) {
            Err(why) => Err(Refusal::plain(
                AppError::bad_request("invalid_user", why).param("user"),
            )),
            Ok(Some(user)) => {
                caller.user = user;
                caller.named = true;
                Ok(())
            }
            Ok(None) => Ok(()),
        };
        Box::pin(std::future::ready(result))
    }
}
