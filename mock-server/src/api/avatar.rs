//! `/mock/avatar/{openid}.svg`: a generated avatar for each fake user, so `headimgurl` works
//! offline. The first character of the nickname on a colour derived from the openid.

use bytes::Bytes;
use http::header::CACHE_CONTROL;
use http::{HeaderValue, Response, StatusCode};

use super::escape_html;
use crate::reply;
use crate::router::Ctx;

const PALETTE: &[&str] = &[
    "#07c160", "#10aeff", "#fa9d3b", "#fa5151", "#6467f0", "#1485ee", "#e75e58", "#2bae85",
];

pub(crate) fn serve(ctx: &Ctx<'_>, file: &str) -> Response<Bytes> {
    let nickname = file.strip_suffix(".svg").and_then(|openid| {
        let state = ctx.state();
        state
            .find_user_anywhere(openid)
            .map(|(_, u)| u.user.nickname.clone())
    });
    let Some(nickname) = nickname else {
        return reply::with_type(
            StatusCode::NOT_FOUND,
            "text/plain; charset=utf-8",
            Bytes::from_static(b"no such user"),
        );
    };
    let openid = file.trim_end_matches(".svg");
    let mut resp = reply::with_type(
        StatusCode::OK,
        "image/svg+xml",
        Bytes::from(svg(openid, &nickname)),
    );
    resp.headers_mut().insert(
        CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    resp
}

/// `/mock/media/{name}.svg`: a placeholder picture (a landscape in a colour from the name), so
/// image messages and news cards show something offline.
pub(crate) fn media(file: &str) -> Response<Bytes> {
    let name = file.strip_suffix(".svg").unwrap_or(file);
    let hash = name.bytes().fold(7usize, |h, b| {
        h.wrapping_mul(31).wrapping_add(usize::from(b))
    });
    let sky = PALETTE[hash % PALETTE.len()];
    let body = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"480\" height=\"270\" viewBox=\"0 0 480 270\">\
         <rect width=\"480\" height=\"270\" fill=\"{sky}\"/>\
         <circle cx=\"370\" cy=\"70\" r=\"34\" fill=\"#fff\" fill-opacity=\".85\"/>\
         <path d=\"M0 270L120 130L200 210L290 110L480 270Z\" fill=\"#000\" fill-opacity=\".25\"/>\
         <path d=\"M0 270L90 190L170 250L260 170L380 270Z\" fill=\"#fff\" fill-opacity=\".35\"/></svg>"
    );
    let mut resp = reply::with_type(StatusCode::OK, "image/svg+xml", Bytes::from(body));
    resp.headers_mut().insert(
        CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    resp
}

fn svg(openid: &str, nickname: &str) -> String {
    let hash = openid.bytes().fold(0usize, |h, b| {
        h.wrapping_mul(31).wrapping_add(usize::from(b))
    });
    let color = PALETTE[hash % PALETTE.len()];
    let initial: String = nickname
        .chars()
        .next()
        .map(String::from)
        .unwrap_or_default();
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"132\" height=\"132\" viewBox=\"0 0 132 132\">\
         <rect width=\"132\" height=\"132\" fill=\"{color}\"/>\
         <text x=\"66\" y=\"66\" dy=\".35em\" text-anchor=\"middle\" fill=\"#fff\" font-size=\"60\" \
         font-family=\"PingFang SC,Microsoft YaHei,sans-serif\">{}</text></svg>",
        escape_html(&initial)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn svg_escapes_and_colours() {
        let a = svg("o1", "<小>");
        assert!(a.contains("&lt;") && !a.contains("<小"));
        assert_eq!(a, svg("o1", "<小>"));
        assert!(svg("o1", "").contains("</text>"));
    }
}
