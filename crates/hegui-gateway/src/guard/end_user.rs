//! The first admission guard: who the end user is. The request's `user` field names them, or
//! the configured header (`guard.user-header`, default `x-hegui-user`); a request that names
//! none is [`ANONYMOUS`] and is never sanctioned (that would punish every such user).

use futures_util::future::BoxFuture;
use serde_json::Value;

use super::{Admission, Caller, Refusal, RequestMeta};
use crate::error::AppError;

/// The end user of requests that name none.
pub(crate) const ANONYMOUS: &str = "anonymous";

/// The longest end-user id accepted, in bytes.
const MAX_LEN: usize = 256;

/// Resolves the end user of a request.
pub(crate) struct EndUser {
    header: String,
}

impl EndUser {
    pub(crate) fn new(header: &str) -> EndUser {
        EndUser {
            header: header.to_owned(),
        }
    }

    /// The end user a request names, if any.
    fn named<'a>(&self, request: RequestMeta<'a>) -> Option<&'a str> {
        request
            .body
            .and_then(|b| b.get("user"))
            .and_then(Value::as_str)
            .or_else(|| {
                request
                    .headers
                    .get(self.header.as_str())
                    .and_then(|v| v.to_str().ok())
            })
            .filter(|u| !u.is_empty())
    }
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
            Some(user) if user.len() > MAX_LEN => Err(Refusal::plain(
                AppError::bad_request(
                    "invalid_user",
                    format!("end user id is longer than {MAX_LEN} bytes"),
                )
                .param("user"),
            )),
            Some(user) => {
                caller.user = user.to_owned();
                caller.named = true;
                Ok(())
            }
            None => Ok(()),
        };
        Box::pin(std::future::ready(result))
    }
}
