//! The custom menu: `cgi-bin/menu/create|get|delete` and
//! `addconditional|delconditional|trymatch`.
//!
//! The rules of PROTOCOL.md 4.5 are `wechat_types::api::Menu::validate` (the single copy of them);
//! an invalid menu leaves the current one untouched. `get` answers 46003 without a menu; `delete`
//! also removes the conditional menus. Conditional menus need a default menu (65303) and a
//! non-empty matchrule (65304); `trymatch` answers the newest conditional menu whose rule matches
//! the user, else the default one.

use serde::Deserialize;
use serde_json::Value;
use wechat_types::ErrCode;
use wechat_types::api::{
    ConditionalMenu, CurrentMenu, MatchRule, Menu, MenuIdResponse, MenuInfo, TryMatchRequest,
};

use super::api_caller;
use crate::config::MockUser;
use crate::reply::{self, ApiError, ApiResult};
use crate::router::Ctx;
use crate::state::limits::MAX_CONDITIONAL_MENUS;

fn shape_error(e: serde_json::Error) -> ApiError {
    ApiError::new(ErrCode::DATA_FORMAT_ERROR).with_hint(format!("unexpected JSON shape: {e}"))
}

fn parse<T: for<'de> Deserialize<'de>>(body: Value) -> Result<T, ApiError> {
    serde_json::from_value(body).map_err(shape_error)
}

pub(crate) fn create(ctx: &Ctx<'_>) -> ApiResult {
    let mut state = ctx.state();
    let app = api_caller(ctx, &mut state, "/cgi-bin/menu/create")?;
    ctx.require_post()?;
    let mut body = ctx.json_body()?;
    // A body without "button" is a menu without buttons (40016), not a format error.
    if let Value::Object(map) = &mut body {
        map.entry("button")
            .or_insert_with(|| Value::Array(Vec::new()));
    }
    let menu: Menu = parse(body)?;
    menu.validate()
        .map_err(|e| ApiError::new(e.code).with_hint(e.reason))?;
    let menuid = state.next_menu_id();
    state.apps[app].menu = Some((menu, menuid));
    Ok(reply::ok())
}

pub(crate) fn get(ctx: &Ctx<'_>) -> ApiResult {
    let mut state = ctx.state();
    let app = api_caller(ctx, &mut state, "/cgi-bin/menu/get")?;
    let app = &state.apps[app];
    let Some((menu, menuid)) = &app.menu else {
        return Err(ApiError::new(ErrCode::MENU_NOT_EXIST));
    };
    Ok(reply::json(&MenuInfo {
        menu: CurrentMenu {
            button: menu.button.clone(),
            menuid: (!app.conditional_menus.is_empty()).then(|| menuid.clone()),
        },
        conditionalmenu: app.conditional_menus.clone(),
    }))
}

pub(crate) fn delete(ctx: &Ctx<'_>) -> ApiResult {
    let mut state = ctx.state();
    let app = api_caller(ctx, &mut state, "/cgi-bin/menu/delete")?;
    let app = &mut state.apps[app];
    app.menu = None;
    app.conditional_menus.clear();
    Ok(reply::ok())
}

pub(crate) fn add_conditional(ctx: &Ctx<'_>) -> ApiResult {
    let mut state = ctx.state();
    let app = api_caller(ctx, &mut state, "/cgi-bin/menu/addconditional")?;
    ctx.require_post()?;
    let mut body = ctx.json_body()?;
    if let Value::Object(map) = &mut body {
        map.entry("button")
            .or_insert_with(|| Value::Array(Vec::new()));
        map.entry("matchrule")
            .or_insert_with(|| Value::Object(Default::default()));
        // The id is WeChat's to assign.
        map.remove("menuid");
    }
    let mut menu: ConditionalMenu = parse(body)?;
    if state.apps[app].menu.is_none() {
        return Err(ApiError::new(ErrCode::NO_DEFAULT_MENU));
    }
    menu.validate()
        .map_err(|e| ApiError::new(e.code).with_hint(e.reason))?;
    if state.apps[app].conditional_menus.len() >= MAX_CONDITIONAL_MENUS {
        return Err(ApiError::new(ErrCode::CONDITIONAL_MENU_LIMIT));
    }
    let menuid = state.next_menu_id();
    menu.menuid = Some(menuid.clone());
    state.apps[app].conditional_menus.push(menu);
    Ok(reply::json(&MenuIdResponse { menuid }))
}

pub(crate) fn del_conditional(ctx: &Ctx<'_>) -> ApiResult {
    let mut state = ctx.state();
    let app = api_caller(ctx, &mut state, "/cgi-bin/menu/delconditional")?;
    ctx.require_post()?;
    let body = ctx.json_body()?;
    // WeChat accepts the id as a string or a number.
    let menuid = match body.get("menuid") {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => {
            return Err(ApiError::new(ErrCode::DATA_FORMAT_ERROR).with_hint("menuid is required"));
        }
    };
    let menus = &mut state.apps[app].conditional_menus;
    let before = menus.len();
    menus.retain(|m| m.menuid.as_deref() != Some(menuid.as_str()));
    if menus.len() == before {
        return Err(ApiError::new(ErrCode::CONDITIONAL_MENU_NOT_EXIST));
    }
    Ok(reply::ok())
}

pub(crate) fn try_match(ctx: &Ctx<'_>) -> ApiResult {
    let mut state = ctx.state();
    let app = api_caller(ctx, &mut state, "/cgi-bin/menu/trymatch")?;
    ctx.require_post()?;
    let request: TryMatchRequest = parse(ctx.json_body()?)?;
    let user = state
        .user(app, &request.user_id)
        .ok_or(ApiError::new(ErrCode::CONDITIONAL_MENU_NO_USER))?
        .user
        .clone();
    let app = &state.apps[app];
    let Some((default, _)) = &app.menu else {
        return Err(ApiError::new(ErrCode::MENU_NOT_EXIST));
    };
    let buttons = app
        .conditional_menus
        .iter()
        .rev()
        .find(|m| rule_matches(&m.matchrule, &user))
        .map_or(&default.button, |m| &m.button);
    Ok(reply::json(&Menu::new(buttons.clone())))
}

/// Every field the rule sets must match the user. `client_platform_type` is not known for fake
/// users and never excludes one.
pub(crate) fn rule_matches(rule: &MatchRule, user: &MockUser) -> bool {
    let same = |want: &Option<String>, have: &str| want.as_deref().is_none_or(|w| w == have);
    let tag_ok = rule
        .tag_id
        .as_deref()
        .is_none_or(|tag| tag.parse::<i64>().is_ok_and(|tag| user.tags.contains(&tag)));
    let sex_ok = rule
        .sex
        .as_deref()
        .is_none_or(|s| s == user.sex.code().to_string());
    tag_ok
        && sex_ok
        && same(&rule.country, &user.country)
        && same(&rule.province, &user.province)
        && same(&rule.city, &user.city)
        && same(&rule.language, &user.language)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_match_on_every_set_field() {
        let user = MockUser::new("甲").with_tags(vec![2]);
        let rule = |f: fn(&mut MatchRule)| {
            let mut r = MatchRule::default();
            f(&mut r);
            rule_matches(&r, &user)
        };
        assert!(rule(|r| r.tag_id = Some("2".into())));
        assert!(!rule(|r| r.tag_id = Some("3".into())));
        assert!(rule(|r| r.province = Some("广东".into())));
        assert!(!rule(|r| r.city = Some("深圳".into())));
        assert!(rule(|r| r.language = Some("zh_CN".into())));
        assert!(rule(|r| r.client_platform_type = Some("1".into())));
        assert!(!rule(|r| r.sex = Some("1".into())));
    }
}
