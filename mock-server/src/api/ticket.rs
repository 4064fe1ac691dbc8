//! `GET /cgi-bin/ticket/getticket?type=jsapi|wx_card`: JS-SDK and card tickets.
//!
//! A ticket lives 7200 s; asking again during its life answers the same ticket with its remaining
//! lifetime (WeChat limits how often tickets may be fetched, so clients must cache them).

use serde::Serialize;
use wechat_types::api::{TicketResponse, TicketType};
use wechat_types::{ApiStatus, JsapiTicket};

use super::api_caller;
use crate::fake::random_alnum;
use crate::reply::{self, ApiError, ApiResult};
use crate::router::Ctx;
use crate::state::State;
use crate::state::limits::ACCESS_TTL;

/// WeChat's tickets are 86 characters.
const TICKET_LEN: usize = 86;

/// `{"errcode":0,"errmsg":"ok","ticket":…,"expires_in":…}`.
#[derive(Serialize)]
struct TicketAnswer {
    #[serde(flatten)]
    status: ApiStatus,
    #[serde(flatten)]
    ticket: TicketResponse,
}

pub(crate) fn get_ticket(ctx: &Ctx<'_>) -> ApiResult {
    let mut state = ctx.state();
    let app = api_caller(ctx, &mut state, "/cgi-bin/ticket/getticket")?;
    let kind = match ctx.query.get("type") {
        Some("jsapi") => TicketType::Jsapi,
        Some("wx_card") => TicketType::WxCard,
        _ => {
            return Err(ApiError::code(40097).with_hint("type must be jsapi or wx_card"));
        }
    };
    let (ticket, expires_in) = state.ticket(app, kind, ctx.now);
    Ok(reply::json(&TicketAnswer {
        status: ApiStatus::ok(),
        ticket: TicketResponse {
            ticket: JsapiTicket::new(ticket),
            expires_in,
        },
    }))
}

impl State {
    /// The app's ticket of this type and its remaining lifetime; a new one when none is live.
    pub(crate) fn ticket(&mut self, app: usize, kind: TicketType, now: i64) -> (String, u64) {
        let slot = &mut self.apps[app].tickets[match kind {
            TicketType::Jsapi => 0,
            TicketType::WxCard => 1,
        }];
        match slot {
            Some((ticket, expires_at)) if *expires_at > now => {
                (ticket.clone(), (*expires_at - now) as u64)
            }
            _ => {
                let ticket = random_alnum(TICKET_LEN);
                *slot = Some((ticket.clone(), now + ACCESS_TTL));
                (ticket, ACCESS_TTL as u64)
            }
        }
    }
}
