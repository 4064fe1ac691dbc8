//! Injected faults: the next N calls of an endpoint fail in a chosen way.

use std::collections::VecDeque;
use std::time::Duration;

use serde::Deserialize;

/// At most this many fault rules are queued; older ones are dropped past it.
const MAX_RULES: usize = 1_024;

/// How an injected fault answers. See [`MockServer::inject_fault`](crate::MockServer::inject_fault).
///
/// ```
/// use std::time::Duration;
/// use wechat_mock::Fault;
///
/// let faults = [
///     Fault::ErrCode(45009),                  // HTTP 200 {"errcode":45009,...}
///     Fault::Busy,                            // HTTP 200 {"errcode":-1,"errmsg":"system error"}
///     Fault::Delay(Duration::from_millis(50)), // then answers normally
///     Fault::Status(502),                     // HTTP 502, empty body
///     Fault::Malformed,                       // HTTP 200, a body that is not JSON
/// ];
/// assert_eq!(faults.len(), 5);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// Answer HTTP 200 with this errcode (and WeChat's errmsg for it).
    ErrCode(i64),
    /// Answer `-1` "system error", WeChat's busy answer.
    Busy,
    /// Wait this long, then answer normally (to exercise client timeouts).
    Delay(Duration),
    /// Answer this HTTP status with an empty body, as a failing gateway does. Values outside
    /// 100..=999 answer 502.
    Status(u16),
    /// Answer HTTP 200 with a truncated, non-JSON body.
    Malformed,
}

#[derive(Debug, Clone)]
struct Rule {
    /// An exact path, or `*` for every API path.
    path: String,
    fault: Fault,
    remaining: usize,
}

/// The queued faults, matched in the order they were injected.
#[derive(Debug, Default)]
pub(crate) struct Faults {
    rules: VecDeque<Rule>,
}

impl Faults {
    pub(crate) fn inject(&mut self, path: &str, fault: Fault, times: usize) {
        if times == 0 {
            return;
        }
        if self.rules.len() == MAX_RULES {
            self.rules.pop_front();
        }
        self.rules.push_back(Rule {
            path: path.to_owned(),
            fault,
            remaining: times,
        });
    }

    /// The fault for this call, if one is queued for `path`; consumes one use of it.
    pub(crate) fn take(&mut self, path: &str) -> Option<Fault> {
        if self.rules.is_empty() {
            return None;
        }
        let index = self
            .rules
            .iter()
            .position(|r| r.path == path || r.path == "*")?;
        let rule = &mut self.rules[index];
        let fault = rule.fault.clone();
        rule.remaining -= 1;
        if rule.remaining == 0 {
            self.rules.remove(index);
        }
        Some(fault)
    }

    pub(crate) fn clear(&mut self) {
        self.rules.clear();
    }

    /// `(path, fault, remaining)` of every queued rule.
    pub(crate) fn list(&self) -> Vec<(String, Fault, usize)> {
        self.rules
            .iter()
            .map(|r| (r.path.clone(), r.fault.clone(), r.remaining))
            .collect()
    }
}

/// The JSON form of a fault for `POST /mock/faults`:
/// `"busy"`, `"malformed"`, `{"errcode": N}`, `{"delay_ms": N}` or `{"status": N}`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(crate) enum FaultSpec {
    Named(FaultName),
    ErrCode { errcode: i64 },
    Delay { delay_ms: u64 },
    Status { status: u16 },
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum FaultName {
    Busy,
    Malformed,
}

/// The longest delay the admin route accepts: a fault must never hang a client forever.
const MAX_DELAY_MS: u64 = 120_000;

impl FaultSpec {
    pub(crate) fn into_fault(self) -> Result<Fault, String> {
        Ok(match self {
            FaultSpec::Named(FaultName::Busy) => Fault::Busy,
            FaultSpec::Named(FaultName::Malformed) => Fault::Malformed,
            FaultSpec::ErrCode { errcode } => Fault::ErrCode(errcode),
            FaultSpec::Delay { delay_ms } if delay_ms <= MAX_DELAY_MS => {
                Fault::Delay(Duration::from_millis(delay_ms))
            }
            FaultSpec::Delay { .. } => {
                return Err(format!("delay_ms must be at most {MAX_DELAY_MS}"));
            }
            FaultSpec::Status { status } => Fault::Status(status),
        })
    }
}

/// The JSON form of a fault, for `GET /mock/faults`.
pub(crate) fn fault_json(fault: &Fault) -> serde_json::Value {
    match fault {
        Fault::ErrCode(code) => serde_json::json!({ "errcode": code }),
        Fault::Busy => serde_json::json!("busy"),
        Fault::Delay(d) => {
            serde_json::json!({ "delay_ms": u64::try_from(d.as_millis()).unwrap_or(u64::MAX) })
        }
        Fault::Status(s) => serde_json::json!({ "status": s }),
        Fault::Malformed => serde_json::json!("malformed"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_are_consumed_in_order() {
        let mut faults = Faults::default();
        faults.inject("/a", Fault::Busy, 2);
        faults.inject("/a", Fault::ErrCode(1), 1);
        faults.inject("/b", Fault::Malformed, 0);
        assert_eq!(faults.take("/b"), None);
        assert_eq!(faults.take("/a"), Some(Fault::Busy));
        assert_eq!(faults.take("/a"), Some(Fault::Busy));
        assert_eq!(faults.take("/a"), Some(Fault::ErrCode(1)));
        assert_eq!(faults.take("/a"), None);
        faults.inject("*", Fault::Status(502), 1);
        assert_eq!(faults.take("/anything"), Some(Fault::Status(502)));
        assert!(faults.list().is_empty());
    }

    #[test]
    fn json_specs() {
        let parse = |s: &str| serde_json::from_str::<FaultSpec>(s).unwrap().into_fault();
        assert_eq!(parse(r#""busy""#), Ok(Fault::Busy));
        assert_eq!(parse(r#"{"errcode":40001}"#), Ok(Fault::ErrCode(40001)));
        assert_eq!(
            parse(r#"{"delay_ms":5}"#),
            Ok(Fault::Delay(Duration::from_millis(5)))
        );
        assert!(parse(r#"{"delay_ms":99999999}"#).is_err());
        assert!(serde_json::from_str::<FaultSpec>(r#""nope""#).is_err());
        assert_eq!(fault_json(&Fault::Status(502))["status"], 502);
    }
}
