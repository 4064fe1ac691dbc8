//! A stand-in for WeChat's JS-SDK, so H5 pages that call `wx.config` work against the fake:
//!
//! - `GET /open/js/jweixin-1.6.0.js` (the real file's path) and `GET /mock/jweixin.js` serve a
//!   small `wx` object. Its `wx.config` asks `GET /mock/jssdk/verify` whether the signature
//!   matches the app's current `jsapi_ticket`; a mismatch calls `wx.error` with
//!   `{errMsg: "config:invalid signature", errcode: 63002}`, as WeChat does.
//! - `GET /mock/jssdk/verify?appid&timestamp&noncestr&signature&url` answers
//!   `{"errcode":0,"errmsg":"config:ok"}` or the error with a hint. It allows any origin: the
//!   page under test is on the developer's host.

use bytes::Bytes;
use http::header::{ACCESS_CONTROL_ALLOW_ORIGIN, CACHE_CONTROL};
use http::{HeaderValue, Response, StatusCode};
use serde_json::json;
use wechat_types::JsapiTicket;

use crate::reply;
use crate::router::Ctx;

/// The script, served as is.
const SCRIPT: &str = include_str!("jweixin.js");

/// The errcode of an invalid JS-SDK signature.
const INVALID_SIGNATURE: i64 = 63002;

pub(crate) fn script(_ctx: &Ctx<'_>) -> Response<Bytes> {
    let mut resp = reply::with_type(
        StatusCode::OK,
        "application/javascript; charset=utf-8",
        Bytes::from_static(SCRIPT.as_bytes()),
    );
    resp.headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    resp.headers_mut()
        .insert(ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    resp
}

pub(crate) fn verify(ctx: &Ctx<'_>) -> Response<Bytes> {
    let answer = check(ctx);
    let mut resp = reply::json(&answer);
    resp.headers_mut()
        .insert(ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    resp
}

fn check(ctx: &Ctx<'_>) -> serde_json::Value {
    let q = &ctx.query;
    let invalid = |hint: &str| json!({ "errcode": INVALID_SIGNATURE, "errmsg": "invalid signature", "hint": hint });
    let state = ctx.state();
    let Some(app) = q.get("appid").and_then(|a| state.app_index(a)) else {
        return json!({ "errcode": 40013, "errmsg": "invalid appid",
                       "hint": "wx.config appId is not an app of this wechat-mock" });
    };
    let Some(timestamp) = q.get("timestamp").and_then(|t| t.parse::<i64>().ok()) else {
        return invalid("wx.config timestamp must be the number that was signed");
    };
    let (Some(noncestr), Some(signature), Some(url)) =
        (q.get("noncestr"), q.get("signature"), q.get("url"))
    else {
        return invalid("wx.config needs nonceStr and signature");
    };
    let ticket = match &state.apps[app].tickets[0] {
        Some((ticket, expires_at)) if *expires_at > ctx.now => JsapiTicket::new(ticket.as_str()),
        _ => {
            return invalid(
                "the app has no live jsapi_ticket: fetch one with GET /cgi-bin/ticket/getticket?type=jsapi",
            );
        }
    };
    let expected = wechat_crypto::jssdk_signature(&ticket, noncestr, timestamp, url);
    if wechat_crypto::constant_time_eq(expected.as_bytes(), signature.as_bytes()) {
        json!({ "errcode": 0, "errmsg": "config:ok" })
    } else {
        invalid(
            "signature is not sha1(jsapi_ticket=<current ticket>&noncestr=…&timestamp=…&url=<page URL without #fragment>)",
        )
    }
}
