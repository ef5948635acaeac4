//! The readiness facts the planner needs, read from `readiness.json` without building the whole
//! document: at a million users the report is 65 MB, nearly all of it per-device findings whose
//! objects the planner never looks at. Only the objects of `user.no_usage_location` findings and
//! the `users_unsupported_only` list are kept; everything else is skipped while parsing.

use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt;

use super::planner::ReadinessFacts as Facts;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// The finding code whose objects are the users a license can't be assigned to.
const NO_USAGE_LOCATION: &str = "user.no_usage_location";

/// Parses readiness.json; `Err` carries what is wrong with it, for the caller's error.
pub fn parse(bytes: &[u8]) -> Result<Facts, String> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let facts = de.deserialize_map(DocVisitor).map_err(|e| e.to_string())?;
    de.end().map_err(|e| e.to_string())?;
    Ok(facts)
}

fn norm(s: &str) -> String {
    s.trim().to_lowercase()
}

/// A key of the report or of a finding, matched without allocating.
enum Key {
    Findings,
    UsersUnsupportedOnly,
    Code,
    Objects,
    Other,
}

impl<'de> de::Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Key, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Key;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a field name")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key, E> {
                Ok(match v {
                    "findings" => Key::Findings,
                    "users_unsupported_only" => Key::UsersUnsupportedOnly,
                    "code" => Key::Code,
                    "objects" => Key::Objects,
                    _ => Key::Other,
                })
            }
        }
        d.deserialize_identifier(V)
    }
}

/// A string, borrowed from the input when it has no escapes.
struct Text<'de>(Cow<'de, str>);

impl<'de> de::Deserialize<'de> for Text<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Text<'de>, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(v.to_string())))
            }
        }
        d.deserialize_str(V)
    }
}

struct DocVisitor;

impl<'de> Visitor<'de> for DocVisitor {
    type Value = Facts;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a readiness report object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Facts, A::Error> {
        let mut facts = Facts::default();
        let mut saw_findings = false;
        while let Some(key) = map.next_key::<Key>()? {
            match key {
                Key::Findings => {
                    map.next_value_seed(FindingsSeed(&mut facts.no_usage_location))?;
                    saw_findings = true;
                }
                Key::UsersUnsupportedOnly => {
                    let list: Option<Vec<Text<'de>>> = map.next_value()?;
                    for u in list.unwrap_or_default() {
                        facts.unsupported_only.insert(norm(&u.0));
                    }
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        if !saw_findings {
            return Err(de::Error::custom("no \"findings\" array"));
        }
        Ok(facts)
    }
}

/// The `findings` array: adds the objects of `user.no_usage_location` findings to the set.
struct FindingsSeed<'a>(&'a mut HashSet<String>);

impl<'de> DeserializeSeed<'de> for FindingsSeed<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for FindingsSeed<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of findings")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(FindingSeed(&mut *self.0))?.is_some() {}
        Ok(())
    }
}

/// One finding: its objects are read only when its code (which readiness writes first) is
/// `user.no_usage_location`.
struct FindingSeed<'a>(&'a mut HashSet<String>);

impl<'de> DeserializeSeed<'de> for FindingSeed<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for FindingSeed<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a finding object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut code: Option<Text<'de>> = None;
        // Objects seen before the code (not how readiness writes them): kept until it is known.
        let mut early: Option<Vec<Text<'de>>> = None;
        while let Some(key) = map.next_key::<Key>()? {
            match key {
                Key::Code => code = Some(map.next_value()?),
                Key::Objects => match code.as_ref().map(|c| c.0.as_ref()) {
                    Some(NO_USAGE_LOCATION) => {
                        let objects: Vec<Text<'de>> = map.next_value()?;
                        self.0.extend(objects.iter().map(|o| norm(&o.0)));
                    }
                    Some(_) => {
                        map.next_value::<IgnoredAny>()?;
                    }
                    None => early = Some(map.next_value()?),
                },
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        if code.as_ref().map(|c| c.0.as_ref()) == Some(NO_USAGE_LOCATION) {
            if let Some(objects) = early {
                self.0.extend(objects.iter().map(|o| norm(&o.0)));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(v: &[&str]) -> HashSet<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn keeps_only_what_the_planner_needs() {
        let doc = br#"{"summary":{"blocker":1},"findings":[
            {"code":"device.unsupported.os_version","severity":"warning","message":"m","objects":["dev-1","x@y"],"remedy":"r"},
            {"code":"user.no_usage_location","severity":"blocker","message":"m","objects":[" A@Contoso.com","b@contoso.com"],"remedy":"r"},
            {"objects":["Early@x"],"code":"user.no_usage_location"},
            {"code":"group.mixed","objects":["G"]}],
            "users_unsupported_only":["C@contoso.com"],"extra":{"nested":[1,2]}}"#;
        let f = parse(doc).unwrap();
        assert_eq!(
            f.no_usage_location,
            set(&["a@contoso.com", "b@contoso.com", "early@x"])
        );
        assert_eq!(f.unsupported_only, set(&["c@contoso.com"]));
    }

    #[test]
    fn escaped_strings_and_null_lists_are_fine() {
        let f = parse(
            br#"{"findings":[{"code":"user.no_usage_location","objects":["a\u0040x"]}],"users_unsupported_only":null}"#,
        )
        .unwrap();
        assert_eq!(f.no_usage_location, set(&["a@x"]));
        assert!(f.unsupported_only.is_empty());
    }

    #[test]
    fn damaged_reports_are_errors_not_panics() {
        for bad in [
            &b"{}"[..],
            b"[]",
            b"{\"findings\":{}}",
            b"{\"findings\":[],\"users_unsupported_only\":\"x\"}",
            b"{\"findings\":[{\"code\":\"user.no_usage_location\",\"objects\":[1]}]}",
            b"{\"findings\":[]} trailing",
            b"{\"findings\":[",
            b"",
        ] {
            assert!(parse(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
        assert!(parse(b"{\"findings\":[]}")
            .unwrap()
            .no_usage_location
            .is_empty());
    }
}
