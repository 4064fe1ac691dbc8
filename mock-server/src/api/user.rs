//! `GET /cgi-bin/user/info`: a follower's profile as the account sees it.
//!
//! Since late 2021 WeChat no longer returns nickname, avatar, sex or region here; neither does the
//! fake. A user who does not follow gets only `subscribe: 0` and `openid`.

use wechat_types::ErrCode;
use wechat_types::api::UserInfo;

use super::api_caller;
use crate::reply::{self, ApiError, ApiResult};
use crate::router::Ctx;

pub(crate) fn info(ctx: &Ctx<'_>) -> ApiResult {
    let mut state = ctx.state();
    let app = api_caller(ctx, &mut state, "/cgi-bin/user/info")?;
    let openid = ctx
        .query
        .get("openid")
        .ok_or(ApiError::new(ErrCode::OPENID_MISSING))?;
    let user = &state
        .user(app, openid)
        .ok_or(ApiError::new(ErrCode::INVALID_OPENID))?
        .user;
    let info = if user.subscribed {
        UserInfo {
            subscribe: 1,
            openid: user.openid.clone(),
            language: Some(user.language.clone()),
            subscribe_time: Some(user.subscribe_time),
            unionid: state.unionid_for(app, openid),
            remark: Some(user.remark.clone()),
            groupid: Some(0),
            tagid_list: user.tags.clone(),
            subscribe_scene: Some("ADD_SCENE_QR_CODE".to_owned()),
            qr_scene: Some(0),
            qr_scene_str: Some(String::new()),
            nickname: None,
            headimgurl: None,
        }
    } else {
        UserInfo {
            subscribe: 0,
            openid: user.openid.clone(),
            ..UserInfo::default()
        }
    };
    Ok(reply::json(&info))
}
