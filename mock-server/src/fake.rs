//! Generated fake data: users, identifiers and secrets.
//!
//! Default users are derived deterministically from the appid, so a frontend developer who restarts
//! `wechat-mock` finds the same people with the same openids. Tokens and codes are random.

use rand::Rng;
use rand::distributions::Alphanumeric;
use wechat_types::api::Sex;

/// SplitMix64: a tiny deterministic generator for reproducible fake users.
pub(crate) struct Seeded(u64);

impl Seeded {
    pub(crate) fn new(seed_text: &str, index: u64) -> Self {
        // FNV-1a over the text, then mixed with the index.
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for byte in seed_text.bytes() {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
        Seeded(hash ^ index.wrapping_mul(0x9e37_79b9_7f4a_7c15))
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    pub(crate) fn below(&mut self, n: usize) -> usize {
        // n is tiny (table sizes); the modulo bias is irrelevant for fake data.
        (self.next_u64() % n.max(1) as u64) as usize
    }

    /// `len` characters of the openid alphabet (`A-Za-z0-9-_`).
    pub(crate) fn id_chars(&mut self, len: usize) -> String {
        (0..len)
            .map(|_| ID_ALPHABET[self.below(ID_ALPHABET.len())] as char)
            .collect()
    }
}

const ID_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// `len` random alphanumeric characters: codes, tokens, tickets.
pub(crate) fn random_alnum(len: usize) -> String {
    rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}

/// A random OpenID in WeChat's shape: `o` and 27 characters of `A-Za-z0-9-_`.
pub(crate) fn random_openid() -> String {
    let mut rng = rand::thread_rng();
    let mut id = String::with_capacity(28);
    id.push('o');
    for _ in 0..27 {
        id.push(ID_ALPHABET[rng.gen_range(0..ID_ALPHABET.len())] as char);
    }
    id
}

/// Nicknames for generated users.
pub(crate) const NICKNAMES: &[&str] = &[
    "小明",
    "韩梅梅",
    "李雷",
    "王小红",
    "张伟",
    "陈静",
    "刘洋",
    "赵敏",
    "周杰",
    "吴芳",
    "孙悦",
    "郑爽",
    "林晓",
    "何佳",
    "高翔",
    "马丽",
    "罗琳",
    "梁晨",
    "宋雨",
    "唐宁",
];

/// A place in the three languages of `lang=zh_CN|zh_TW|en`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Place {
    pub(crate) province: [&'static str; 3],
    pub(crate) city: [&'static str; 3],
}

pub(crate) const COUNTRY_CN: [&str; 3] = ["中国", "中國", "China"];

pub(crate) const PLACES: &[Place] = &[
    Place {
        province: ["广东", "廣東", "Guangdong"],
        city: ["广州", "廣州", "Guangzhou"],
    },
    Place {
        province: ["广东", "廣東", "Guangdong"],
        city: ["深圳", "深圳", "Shenzhen"],
    },
    Place {
        province: ["北京", "北京", "Beijing"],
        city: ["海淀", "海淀", "Haidian"],
    },
    Place {
        province: ["上海", "上海", "Shanghai"],
        city: ["浦东新区", "浦東新區", "Pudong New District"],
    },
    Place {
        province: ["浙江", "浙江", "Zhejiang"],
        city: ["杭州", "杭州", "Hangzhou"],
    },
    Place {
        province: ["四川", "四川", "Sichuan"],
        city: ["成都", "成都", "Chengdu"],
    },
    Place {
        province: ["湖北", "湖北", "Hubei"],
        city: ["武汉", "武漢", "Wuhan"],
    },
];

/// The region name in `lang` (index 0 zh_CN, 1 zh_TW, 2 en), when the name is one the fake
/// knows; unknown names are answered as they were configured.
pub(crate) fn localize(name: &str, lang: usize) -> &str {
    let lang = lang.min(2);
    if COUNTRY_CN.contains(&name) {
        return COUNTRY_CN[lang];
    }
    for place in PLACES {
        if place.province.contains(&name) {
            return place.province[lang];
        }
        if place.city.contains(&name) {
            return place.city[lang];
        }
    }
    name
}

/// A generated person: the fields of a default fake user.
pub(crate) struct Person {
    pub(crate) openid: String,
    pub(crate) unionid: String,
    pub(crate) nickname: String,
    pub(crate) sex: Sex,
    pub(crate) place: Place,
}

/// The `index`-th fake user of an app, the same on every run.
pub(crate) fn person(appid: &str, index: usize) -> Person {
    let mut rng = Seeded::new(appid, index as u64);
    let base = NICKNAMES[index % NICKNAMES.len()];
    let nickname = match index / NICKNAMES.len() {
        0 => base.to_owned(),
        round => format!("{base}{}", round + 1),
    };
    let sex = match rng.below(3) {
        0 => Sex::Unknown,
        1 => Sex::Male,
        _ => Sex::Female,
    };
    let place = PLACES[rng.below(PLACES.len())];
    Person {
        openid: format!("o{}", rng.id_chars(27)),
        unionid: format!("o{}", rng.id_chars(27)),
        nickname,
        sex,
        place,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn people_are_stable_and_well_formed() {
        let a = person("wx1", 0);
        let b = person("wx1", 0);
        assert_eq!(a.openid, b.openid);
        assert_eq!(a.openid.len(), 28);
        assert!(a.openid.starts_with('o'));
        assert_ne!(person("wx1", 1).openid, a.openid);
        assert_ne!(person("wx2", 0).openid, a.openid);
        assert_eq!(person("wx1", NICKNAMES.len()).nickname, "小明2");
    }

    #[test]
    fn random_ids_have_wechat_shapes() {
        let id = random_openid();
        assert_eq!(id.len(), 28);
        assert!(id.bytes().all(|b| ID_ALPHABET.contains(&b) || b == b'o'));
        assert_eq!(random_alnum(32).len(), 32);
        assert_ne!(random_alnum(32), random_alnum(32));
    }

    #[test]
    fn regions_are_localized() {
        assert_eq!(localize("广州", 2), "Guangzhou");
        assert_eq!(localize("中国", 1), "中國");
        assert_eq!(localize("Springfield", 2), "Springfield");
    }
}
