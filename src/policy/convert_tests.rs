//! Unit tests for every conversion rule and boundary, run against the real mapping table.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::*;
use crate::model::{BmsPolicy, PolicyKind};
use crate::policy::mapping::{tables, Target};

fn policy(kind: PolicyKind, settings: Value) -> BmsPolicy {
    let settings: BTreeMap<String, Value> = serde_json::from_value(settings).expect("settings map");
    BmsPolicy {
        name: "P".into(),
        comment: Some("note".into()),
        enabled: true,
        kind,
        target_groups: vec![],
        settings,
    }
}

fn run(kind: PolicyKind, settings: Value, target: AndroidTarget) -> PolicyConversion {
    let t = tables().expect("tables");
    convert_policy(
        &t.mapping,
        &t.skeletons,
        &policy(kind, settings),
        &Options {
            android_target: target,
            name_prefix: String::new(),
        },
    )
}

fn block(settings: Value) -> PolicyConversion {
    run(
        PolicyKind::ConditionalAccess,
        settings,
        AndroidTarget::DeviceAdmin,
    )
}

fn allow(settings: Value) -> PolicyConversion {
    run(
        PolicyKind::Configuration,
        settings,
        AndroidTarget::DeviceAdmin,
    )
}

/// The body of the object with this @odata.type suffix.
fn body<'a>(c: &'a PolicyConversion, odata_suffix: &str) -> Option<&'a Value> {
    c.objects
        .iter()
        .find(|o| o.odata_type == format!("#microsoft.graph.{odata_suffix}"))
        .map(|o| &o.body)
}

fn prop(c: &PolicyConversion, odata_suffix: &str, p: &str) -> Value {
    body(c, odata_suffix)
        .and_then(|b| b.get(p))
        .cloned()
        .unwrap_or(Value::Null)
}

fn row<'a>(
    c: &'a PolicyConversion,
    platform: &str,
    setting: &str,
    property: &str,
) -> &'a MappingRow {
    c.rows
        .iter()
        .find(|r| {
            r.platform == platform
                && r.setting == setting
                && r.property.as_deref() == Some(property)
        })
        .unwrap_or_else(|| panic!("no row {platform}/{setting}/{property} in {:#?}", c.rows))
}

#[test]
fn inactivity_is_bucketed_per_platform_at_every_boundary() {
    // minutes → (Android DA, Android work profile, iOS), from PMA's table; Windows below.
    let cases: &[(i64, i64, i64, i64)] = &[
        (1, 1, 1, 1),
        (4, 1, 1, 4),
        (5, 5, 5, 5),
        (9, 5, 5, 5),
        (10, 5, 5, 10),
        (14, 5, 5, 10),
        (15, 15, 15, 15),
        (29, 15, 15, 15),
        (30, 30, 30, 15),
        (59, 30, 30, 15),
        (60, 60, 60, 15),
        (61, 60, 60, 15),
    ];
    for &(n, android, android_wp, ios) in cases {
        let win = match n {
            0..=4 => 1,
            5..=14 => 5,
            _ => 15,
        };
        let ts = format!("{:02}:{:02}:00", n / 60, n % 60);
        let c = block(json!({ "PasswordTimeout": ts }));
        assert_eq!(
            prop(
                &c,
                "iosCompliancePolicy",
                "passcodeMinutesOfInactivityBeforeLock"
            ),
            json!(ios),
            "iOS {n}"
        );
        assert_eq!(
            prop(
                &c,
                "androidCompliancePolicy",
                "passwordMinutesOfInactivityBeforeLock"
            ),
            json!(android),
            "Android {n}"
        );
        assert_eq!(
            prop(
                &c,
                "windows10CompliancePolicy",
                "passwordMinutesOfInactivityBeforeLock"
            ),
            json!(win),
            "Windows {n}"
        );
        let wp = run(
            PolicyKind::ConditionalAccess,
            json!({ "PasswordTimeout": ts }),
            AndroidTarget::WorkProfile,
        );
        assert_eq!(
            prop(
                &wp,
                "androidWorkProfileCompliancePolicy",
                "passwordMinutesOfInactivityBeforeLock"
            ),
            json!(android_wp),
            "WP {n}"
        );
        // Allow policies: same buckets in the restrictions profiles' auto-lock properties.
        let a = allow(json!({ "PasswordTimeout": ts }));
        assert_eq!(
            prop(
                &a,
                "iosGeneralDeviceConfiguration",
                "passcodeMinutesOfInactivityBeforeScreenTimeout"
            ),
            json!(ios),
            "iOS cfg {n}"
        );
        assert_eq!(
            prop(
                &a,
                "androidGeneralDeviceConfiguration",
                "passwordMinutesOfInactivityBeforeScreenTimeout"
            ),
            json!(android),
            "Android cfg {n}"
        );
        assert_eq!(
            prop(
                &a,
                "windows10GeneralConfiguration",
                "passwordMinutesOfInactivityBeforeScreenTimeout"
            ),
            json!(win),
            "Windows cfg {n}"
        );
    }
}

#[test]
fn inactivity_statuses_say_exact_bucketed_or_clamped() {
    let c = block(json!({"PasswordTimeout": "00:05:00"}));
    assert_eq!(
        row(
            &c,
            "ios",
            "PasswordTimeout",
            "passcodeMinutesOfInactivityBeforeLock"
        )
        .status,
        Status::Exact
    );
    let c = block(json!({"PasswordTimeout": "00:07:00"}));
    let r = row(
        &c,
        "ios",
        "PasswordTimeout",
        "passcodeMinutesOfInactivityBeforeLock",
    );
    assert_eq!((r.status, r.loss), (Status::Converted, true));
    assert!(r.rule.contains("bucketed to 5"), "{}", r.rule);
    let c = block(json!({"PasswordTimeout": "00:10:00"}));
    let r = row(
        &c,
        "ios",
        "PasswordTimeout",
        "passcodeMinutesOfInactivityBeforeLock",
    );
    assert!(r.loss && r.rule.contains("iPadOS only"), "{}", r.rule);
    let c = block(json!({"PasswordTimeout": "1.00:00:00"}));
    let r = row(
        &c,
        "android",
        "PasswordTimeout",
        "passwordMinutesOfInactivityBeforeLock",
    );
    assert_eq!(
        (r.status, r.inferred, r.value.clone()),
        (Status::Clamped, true, Some(json!(60)))
    );
    // 0 = not configured; part minutes round up.
    let c = block(json!({"PasswordTimeout": "00:00:00"}));
    assert!(body(&c, "iosCompliancePolicy").is_none());
    let c = block(json!({"PasswordTimeout": "00:00:30"}));
    assert_eq!(
        prop(
            &c,
            "iosCompliancePolicy",
            "passcodeMinutesOfInactivityBeforeLock"
        ),
        json!(1)
    );
    // ConvertTo-Json TimeSpan objects.
    let c = block(json!({"PasswordTimeout": {"Ticks": 9_000_000_000_i64, "TotalMinutes": 15.0}}));
    assert_eq!(
        prop(
            &c,
            "windows10CompliancePolicy",
            "passwordMinutesOfInactivityBeforeLock"
        ),
        json!(15)
    );
}

fn android_type(settings: Value) -> Value {
    prop(
        &block(settings),
        "androidCompliancePolicy",
        "passwordRequiredType",
    )
}

#[test]
fn android_password_type_rules_each_and_maximum() {
    assert_eq!(
        android_type(json!({"AllowSimplePassword": false})),
        json!("numericComplex")
    );
    assert_eq!(
        android_type(json!({"AllowSimplePassword": true})),
        json!("numeric")
    );
    assert_eq!(
        android_type(json!({"PasswordMinComplexChars": 1})),
        json!("numeric")
    );
    assert_eq!(
        android_type(json!({"PasswordMinComplexChars": 2})),
        json!("alphanumeric")
    );
    assert_eq!(
        android_type(json!({"PasswordMinComplexChars": 3})),
        json!("alphanumericWithSymbols")
    );
    assert_eq!(
        android_type(json!({"PasswordMinComplexChars": 4})),
        json!("alphanumericWithSymbols")
    );
    assert_eq!(
        android_type(json!({"PasswordMinComplexChars": 7})),
        json!("alphanumericWithSymbols")
    );
    assert_eq!(
        android_type(json!({"PasswordMinComplexChars": 0})),
        Value::Null
    );
    assert_eq!(
        android_type(json!({"PasswordMinimumLength": 6})),
        json!("numeric")
    );
    assert_eq!(
        android_type(json!({"PasswordHistoryCount": 3})),
        json!("numeric")
    );
    assert_eq!(
        android_type(json!({"PasswordTimeout": "00:05:00"})),
        json!("numeric")
    );
    assert_eq!(
        android_type(json!({"PasswordComplexity": 1})),
        json!("alphanumeric")
    );
    assert_eq!(android_type(json!({"PasswordRequired": true})), Value::Null);
    // The maximum over the rules wins, in either order.
    assert_eq!(
        android_type(
            json!({"AllowSimplePassword": false, "PasswordMinComplexChars": 2, "PasswordMinimumLength": 8})
        ),
        json!("alphanumeric")
    );
    assert_eq!(
        android_type(json!({"AllowSimplePassword": false, "PasswordMinimumLength": 8})),
        json!("numericComplex")
    );
    let c = block(json!({"AllowSimplePassword": false, "PasswordMinimumLength": 8}));
    let r = row(
        &c,
        "android",
        "PasswordMinimumLength",
        "passwordRequiredType",
    );
    assert_eq!(r.value, Some(json!("numericComplex")));
    assert!(r.rule.contains("maximum over the rules"), "{}", r.rule);
}

#[test]
fn android_work_profile_uses_its_own_types_and_enum() {
    let c = run(
        PolicyKind::ConditionalAccess,
        json!({"AllowSimplePassword": false, "PasswordMinimumLength": 6}),
        AndroidTarget::WorkProfile,
    );
    assert_eq!(
        prop(
            &c,
            "androidWorkProfileCompliancePolicy",
            "passwordRequiredType"
        ),
        json!("numericComplex")
    );
    assert!(body(&c, "androidCompliancePolicy").is_none());
    let a = run(
        PolicyKind::Configuration,
        json!({"PasswordRequired": true, "PasswordMinimumLength": 6}),
        AndroidTarget::WorkProfile,
    );
    assert_eq!(
        prop(
            &a,
            "androidWorkProfileGeneralDeviceConfiguration",
            "passwordRequiredType"
        ),
        json!("atLeastNumeric")
    );
    let a = run(
        PolicyKind::Configuration,
        json!({"PasswordRequired": true}),
        AndroidTarget::WorkProfile,
    );
    assert_eq!(
        prop(
            &a,
            "androidWorkProfileGeneralDeviceConfiguration",
            "passwordRequiredType"
        ),
        json!("required")
    );
    let a = run(
        PolicyKind::Configuration,
        json!({"PasswordMinComplexChars": 2}),
        AndroidTarget::WorkProfile,
    );
    assert_eq!(
        prop(
            &a,
            "androidWorkProfileGeneralDeviceConfiguration",
            "passwordRequiredType"
        ),
        json!("atLeastAlphanumeric")
    );
    let e = run(
        PolicyKind::Configuration,
        json!({"RequireEmailProfile": true}),
        AndroidTarget::WorkProfile,
    );
    let o = e
        .objects
        .iter()
        .find(|o| o.platform == "android_wp")
        .expect("wp email");
    assert_eq!(
        o.odata_type,
        "#microsoft.graph.androidWorkProfileGmailEasConfiguration"
    );
    assert_eq!(o.api, "beta");
}

#[test]
fn every_range_clamp_in_the_table_clamps_and_reports() {
    let t = tables().expect("tables");
    let mut checked = 0;
    for rule in t
        .mapping
        .rules
        .iter()
        .filter(|r| r.conversion == "int_range")
    {
        let (Some(min), Some(max)) = (
            rule.params.get("min").and_then(Value::as_i64),
            rule.params.get("max").and_then(Value::as_i64),
        ) else {
            panic!("int_range without min/max: {rule:?}");
        };
        let unset: Vec<i64> = rule
            .params
            .get("unset_values")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_i64).collect())
            .unwrap_or_default();
        let cases = [
            (min - 1, min, Status::Clamped),
            (min, min, Status::Exact),
            (max, max, Status::Exact),
            (max + 1, max, Status::Clamped),
        ];
        for (input, expect, status) in cases {
            if unset.contains(&input) {
                let s =
                    apply(rule, &rule.setting, &values::SourceValue::Int(input)).expect("apply");
                assert_eq!(s.effect, Effect::Unset, "{rule:?} {input}");
                continue;
            }
            let s = apply(rule, &rule.setting, &values::SourceValue::Int(input)).expect("apply");
            assert_eq!(
                s.effect,
                Effect::Set(json!(expect)),
                "{} {} {input}",
                rule.setting,
                rule.platform
            );
            assert_eq!(
                s.status, status,
                "{} {} {input}",
                rule.setting, rule.platform
            );
            assert_eq!(s.loss, status == Status::Clamped);
            checked += 1;
        }
    }
    assert!(checked >= 60, "checked {checked}");
}

#[test]
fn named_clamps_end_to_end() {
    let c = block(
        json!({"PasswordMinimumLength": 3, "MaxPasswordAttemptsBeforeWipe": 20, "PasswordHistoryCount": 30}),
    );
    assert_eq!(
        prop(&c, "iosCompliancePolicy", "passcodeMinimumLength"),
        json!(4)
    );
    assert_eq!(
        prop(
            &c,
            "iosCompliancePolicy",
            "passcodePreviousPasscodeBlockCount"
        ),
        json!(24)
    );
    assert_eq!(
        prop(
            &c,
            "iosGeneralDeviceConfiguration",
            "passcodeSignInFailureCountBeforeWipe"
        ),
        json!(11)
    );
    assert_eq!(
        prop(
            &c,
            "androidGeneralDeviceConfiguration",
            "passwordSignInFailureCountBeforeFactoryReset"
        ),
        json!(16)
    );
    assert_eq!(
        prop(
            &c,
            "windows10GeneralConfiguration",
            "passwordSignInFailureCountBeforeFactoryReset"
        ),
        json!(20)
    );
    let r = row(&c, "ios", "PasswordMinimumLength", "passcodeMinimumLength");
    assert_eq!(r.status, Status::Clamped);
    assert!(r.rule.contains("raised from 3 to 4"), "{}", r.rule);
    let c = block(json!({"PasswordMinimumLength": 15, "MaxPasswordAttemptsBeforeWipe": 1}));
    assert_eq!(
        prop(&c, "iosCompliancePolicy", "passcodeMinimumLength"),
        json!(14)
    );
    assert_eq!(
        prop(&c, "androidCompliancePolicy", "passwordMinimumLength"),
        json!(15)
    );
    assert_eq!(
        prop(
            &c,
            "iosGeneralDeviceConfiguration",
            "passcodeSignInFailureCountBeforeWipe"
        ),
        json!(2)
    );
    let c = block(json!({"MaxPasswordAttemptsBeforeWipe": 1000}));
    assert_eq!(
        prop(
            &c,
            "windows10GeneralConfiguration",
            "passwordSignInFailureCountBeforeFactoryReset"
        ),
        json!(999)
    );
    // Expiration 0 = never: not configured, not clamped to 1.
    let c = block(json!({"PasswordExpirationDays": 0, "PasswordRequired": true}));
    assert_eq!(
        prop(&c, "iosCompliancePolicy", "passcodeExpirationDays"),
        Value::Null
    );
    assert_eq!(
        row(
            &c,
            "ios",
            "PasswordExpirationDays",
            "passcodeExpirationDays"
        )
        .status,
        Status::Exact
    );
}

#[test]
fn character_sets_per_platform() {
    for (n, ios, win) in [
        (1, json!(1), json!(2)),
        (2, json!(2), json!(2)),
        (3, json!(3), json!(3)),
        (4, json!(4), json!(4)),
        (5, json!(4), json!(4)),
    ] {
        let c = block(json!({ "PasswordMinComplexChars": n }));
        assert_eq!(
            prop(
                &c,
                "iosCompliancePolicy",
                "passcodeMinimumCharacterSetCount"
            ),
            ios,
            "iOS {n}"
        );
        assert_eq!(
            prop(
                &c,
                "windows10CompliancePolicy",
                "passwordMinimumCharacterSetCount"
            ),
            win,
            "Windows {n}"
        );
    }
    let c = block(json!({ "PasswordMinComplexChars": 1 }));
    let r = row(
        &c,
        "windows",
        "PasswordMinComplexChars",
        "passwordMinimumCharacterSetCount",
    );
    assert_eq!(
        (r.status, r.loss, r.inferred),
        (Status::Converted, true, true)
    );
    let c = block(json!({ "PasswordMinComplexChars": 3 }));
    assert_eq!(
        row(
            &c,
            "windows",
            "PasswordMinComplexChars",
            "passwordMinimumCharacterSetCount"
        )
        .status,
        Status::Exact
    );
    let c = block(json!({ "PasswordMinComplexChars": 0, "PasswordRequired": true }));
    assert_eq!(
        prop(
            &c,
            "iosCompliancePolicy",
            "passcodeMinimumCharacterSetCount"
        ),
        Value::Null
    );
}

#[test]
fn prevent_simple_and_allow_to_block_inversions() {
    let c = block(json!({"AllowSimplePassword": false}));
    assert_eq!(
        prop(&c, "iosCompliancePolicy", "passcodeBlockSimple"),
        json!(true)
    );
    assert_eq!(
        prop(&c, "windows10CompliancePolicy", "passwordBlockSimple"),
        json!(true)
    );
    let c = block(json!({"AllowSimplePassword": "True"}));
    assert_eq!(
        prop(&c, "iosCompliancePolicy", "passcodeBlockSimple"),
        json!(false)
    );
    let c = block(
        json!({"AllowJailbroken": false, "AllowScreenshot": "$false", "CameraEnabled": true, "AllowAppStore": 0, "BluetoothEnabled": false, "EnableRemovableStorage": false, "AllowiCloudBackup": false}),
    );
    assert_eq!(
        prop(&c, "iosCompliancePolicy", "securityBlockJailbrokenDevices"),
        json!(true)
    );
    assert_eq!(
        prop(
            &c,
            "androidCompliancePolicy",
            "securityBlockJailbrokenDevices"
        ),
        json!(true)
    );
    assert_eq!(
        prop(&c, "iosGeneralDeviceConfiguration", "screenCaptureBlocked"),
        json!(true)
    );
    assert_eq!(
        prop(&c, "iosGeneralDeviceConfiguration", "cameraBlocked"),
        json!(false)
    );
    assert_eq!(
        prop(&c, "iosGeneralDeviceConfiguration", "appStoreBlocked"),
        json!(true)
    );
    assert_eq!(
        prop(&c, "iosGeneralDeviceConfiguration", "iCloudBlockBackup"),
        json!(true)
    );
    assert_eq!(
        prop(&c, "windows10GeneralConfiguration", "windowsStoreBlocked"),
        json!(true)
    );
    assert_eq!(
        prop(&c, "windows10GeneralConfiguration", "bluetoothBlocked"),
        json!(true)
    );
    assert_eq!(
        prop(
            &c,
            "windows10GeneralConfiguration",
            "storageBlockRemovableStorage"
        ),
        json!(true)
    );
    assert_eq!(
        prop(
            &c,
            "androidGeneralDeviceConfiguration",
            "storageBlockGoogleBackup"
        ),
        json!(true)
    );
    let r = row(&c, "ios", "AllowScreenshot", "screenCaptureBlocked");
    assert_eq!((r.status, r.loss), (Status::Converted, false));
    // Windows diagnostic data: blocked → "none"; allowed → not configured.
    let c = block(json!({"AllowDiagnosticSubmission": false}));
    assert_eq!(
        prop(
            &c,
            "windows10GeneralConfiguration",
            "diagnosticsDataSubmissionMode"
        ),
        json!("none")
    );
    let c = block(json!({"AllowDiagnosticSubmission": true}));
    assert_eq!(
        prop(
            &c,
            "windows10GeneralConfiguration",
            "diagnosticsDataSubmissionMode"
        ),
        Value::Null
    );
    assert_eq!(
        prop(
            &c,
            "iosGeneralDeviceConfiguration",
            "diagnosticDataBlockSubmission"
        ),
        json!(false)
    );
}

#[test]
fn block_and_allow_route_the_same_setting_differently() {
    let settings = json!({"PasswordMinimumLength": 8, "PhoneMemoryEncrypted": true});
    let b = block(settings.clone());
    let a = allow(settings);
    assert_eq!(
        prop(&b, "iosCompliancePolicy", "passcodeMinimumLength"),
        json!(8)
    );
    assert!(body(&b, "iosGeneralDeviceConfiguration").is_none());
    assert_eq!(
        prop(&b, "androidCompliancePolicy", "storageRequireEncryption"),
        json!(true)
    );
    assert!(a.objects.iter().all(|o| o.target != Target::Compliance));
    assert_eq!(
        prop(&a, "iosGeneralDeviceConfiguration", "passcodeMinimumLength"),
        json!(8)
    );
    assert_eq!(
        prop(
            &a,
            "androidGeneralDeviceConfiguration",
            "storageRequireDeviceEncryption"
        ),
        json!(true)
    );
    assert_eq!(
        prop(&a, "windows10GeneralConfiguration", "passwordMinimumLength"),
        json!(8)
    );
    assert_eq!(
        row(&b, "ios", "PasswordMinimumLength", "passcodeMinimumLength")
            .intune_type
            .as_deref(),
        Some("#microsoft.graph.iosCompliancePolicy")
    );
    assert_eq!(
        row(&a, "ios", "PasswordMinimumLength", "passcodeMinimumLength")
            .intune_type
            .as_deref(),
        Some("#microsoft.graph.iosGeneralDeviceConfiguration")
    );
}

#[test]
fn compliance_bodies_have_exactly_one_block_action_and_no_server_fields() {
    let c = block(
        json!({"PasswordRequired": true, "PasswordMinimumLength": 6, "RequireEmailProfile": true, "MaxPasswordAttemptsBeforeWipe": 10}),
    );
    let compliance: Vec<_> = c
        .objects
        .iter()
        .filter(|o| o.target == Target::Compliance)
        .collect();
    assert_eq!(compliance.len(), 3);
    for o in &compliance {
        let actions = o.body["scheduledActionsForRule"]
            .as_array()
            .expect("actions");
        assert_eq!(actions.len(), 1);
        let items = actions[0]["scheduledActionConfigurations"]
            .as_array()
            .expect("items");
        assert_eq!(
            items.iter().filter(|i| i["actionType"] == "block").count(),
            1
        );
        assert_eq!(o.api, "v1.0");
    }
    for o in &c.objects {
        for k in ["id", "createdDateTime", "lastModifiedDateTime", "version"] {
            assert!(o.body.get(k).is_none(), "{} has {k}", o.display_name);
        }
        assert_eq!(o.body["description"], "note");
    }
    // Wipe count goes to the configuration profile even for Block policies.
    assert_eq!(
        prop(
            &c,
            "iosGeneralDeviceConfiguration",
            "passcodeSignInFailureCountBeforeWipe"
        ),
        json!(10)
    );
    assert_eq!(
        prop(
            &c,
            "iosCompliancePolicy",
            "passcodeSignInFailureCountBeforeWipe"
        ),
        Value::Null
    );
}

#[test]
fn names_follow_microsofts_convention_with_optional_prefix() {
    let t = tables().expect("tables");
    let p = policy(
        PolicyKind::ConditionalAccess,
        json!({"PasswordRequired": true, "RequireEmailProfile": true}),
    );
    let c = convert_policy(&t.mapping, &t.skeletons, &p, &Options::default());
    let mut names: Vec<_> = c.objects.iter().map(|o| o.display_name.clone()).collect();
    names.sort();
    assert_eq!(
        names,
        [
            "P_O365_A",
            "P_O365_A_Email",
            "P_O365_W",
            "P_O365_W_Email",
            "P_O365_i",
            "P_O365_i_Email"
        ]
    );
    let c = convert_policy(
        &t.mapping,
        &t.skeletons,
        &p,
        &Options {
            name_prefix: "MIG-".into(),
            ..Options::default()
        },
    );
    assert!(c
        .objects
        .iter()
        .all(|o| o.display_name.starts_with("MIG-P_O365_")));
}

#[test]
fn email_profiles_are_beta_with_microsofts_values() {
    let c = block(
        json!({"RequireEmailProfile": true, "ExchangeActiveSyncHost": "mail.contoso.com", "AccountName": "Contoso mail", "EmailAddress": "julia@contoso.com"}),
    );
    let ios = c
        .objects
        .iter()
        .find(|o| o.odata_type.ends_with("iosEasEmailProfileConfiguration"))
        .expect("ios email");
    assert_eq!(ios.api, "beta");
    assert_eq!(ios.display_name, "P_O365_i_Email");
    assert_eq!(ios.body["hostName"], "mail.contoso.com");
    assert_eq!(ios.body["accountName"], "Contoso mail");
    assert_eq!(ios.body["usernameSource"], "userPrincipalName");
    assert_eq!(ios.body["emailAddressSource"], "userPrincipalName");
    assert_eq!(ios.body["authenticationMethod"], "usernameAndPassword");
    assert_eq!(ios.body["requireSsl"], true);
    assert_eq!(ios.body["blockSendingEmailFromThirdPartyApps"], false);
    assert_eq!(
        prop(&c, "iosCompliancePolicy", "managedEmailProfileRequired"),
        json!(true)
    );
    let win = c
        .objects
        .iter()
        .find(|o| {
            o.odata_type
                .ends_with("windows10EasEmailProfileConfiguration")
        })
        .expect("win email");
    assert_eq!(win.body["syncTasks"], true);
    assert!(win.body.get("authenticationMethod").is_none());
    let r = c
        .rows
        .iter()
        .find(|r| r.setting == "EmailAddress" && r.platform == "ios")
        .expect("row");
    assert_eq!(r.status, Status::Manual);
    // Without RequireEmailProfile the host has nowhere to go.
    let c = block(json!({"ExchangeActiveSyncHost": "mail.contoso.com"}));
    assert!(c.objects.is_empty());
    let r = row(&c, "ios", "ExchangeActiveSyncHost", "hostName");
    assert_eq!(r.status, Status::NotMigrated);
}

#[test]
fn windows_phone_and_rt_only_settings_are_reported_not_migrated() {
    let c = block(
        json!({"WLANEnabled": false, "AllowConvenienceLogon": true, "AutoUpdateStatus": "AutomaticDownloadUpdates", "FirewallStatus": 1}),
    );
    assert!(c.objects.is_empty());
    for s in [
        "WLANEnabled",
        "AllowConvenienceLogon",
        "AutoUpdateStatus",
        "FirewallStatus",
    ] {
        let r = c
            .rows
            .iter()
            .find(|r| r.setting == s && r.platform == "windows")
            .expect("windows row");
        assert_eq!(r.status, Status::NotMigrated, "{s}");
        assert!(r.loss, "{s}");
        assert!(r.rule.contains("only Windows 10/11 desktop"), "{}", r.rule);
        let i = c
            .rows
            .iter()
            .find(|r| r.setting == s && r.platform == "ios")
            .expect("ios row");
        assert!(!i.loss, "{s} never applied to iOS");
    }
}

#[test]
fn powershell_only_settings_map_or_are_reported() {
    let c = block(
        json!({"AllowVoiceDialing": false, "AllowVoiceAssistant": false, "AppsRating": 300, "MoviesRating": "USRatingPG13", "SystemSecurityTLS": true, "MaxPasswordGracePeriod": "00:05:00", "PasswordQuality": 3}),
    );
    assert_eq!(
        prop(&c, "iosGeneralDeviceConfiguration", "voiceDialingBlocked"),
        json!(true)
    );
    assert_eq!(
        prop(&c, "iosGeneralDeviceConfiguration", "siriBlocked"),
        json!(true)
    );
    assert_eq!(
        prop(
            &c,
            "iosGeneralDeviceConfiguration",
            "mediaContentRatingApps"
        ),
        json!("agesAbove12")
    );
    let c2 = block(json!({"AppsRating": "AllowAll"}));
    assert_eq!(
        prop(
            &c2,
            "iosGeneralDeviceConfiguration",
            "mediaContentRatingApps"
        ),
        json!("allAllowed")
    );
    for (s, status) in [
        ("MoviesRating", Status::Manual),
        ("SystemSecurityTLS", Status::NotMigrated),
        ("MaxPasswordGracePeriod", Status::Manual),
    ] {
        let r = c
            .rows
            .iter()
            .find(|r| r.setting == s && r.platform == "ios")
            .expect("row");
        assert_eq!(r.status, status, "{s}");
    }
    let r = c
        .rows
        .iter()
        .find(|r| r.setting == "PasswordQuality" && r.platform == "android")
        .expect("row");
    assert_eq!(r.status, Status::Manual);
}

#[test]
fn unreadable_and_unknown_values_become_manual_rows_not_errors() {
    let c = block(
        json!({"PasswordMinimumLength": "six", "AppsRating": 42, "NewSetting2027": true, "Identity": "P{guid}", "PasswordRequired": null}),
    );
    let r = c
        .rows
        .iter()
        .find(|r| r.setting == "PasswordMinimumLength" && r.platform == "ios")
        .expect("row");
    assert_eq!(r.status, Status::Manual);
    assert!(r.rule.contains("not understood"), "{}", r.rule);
    let r = c
        .rows
        .iter()
        .find(|r| r.setting == "AppsRating" && r.platform == "ios")
        .expect("row");
    assert_eq!(r.status, Status::Manual);
    let r = c
        .rows
        .iter()
        .find(|r| r.setting == "NewSetting2027")
        .expect("row");
    assert_eq!((r.platform.as_str(), r.status), ("all", Status::Manual));
    assert!(c
        .rows
        .iter()
        .all(|r| r.setting != "Identity" && r.setting != "PasswordRequired"));
}

#[test]
fn caveats_list_only_what_does_not_carry_over() {
    let p = policy(
        PolicyKind::ConditionalAccess,
        json!({"PasswordMinimumLength": 6, "PasswordTimeout": "00:07:00", "MaxPasswordAttemptsBeforeWipe": 20, "WLANEnabled": false, "AllowiCloudBackup": false, "MaxPasswordGracePeriod": "00:05:00"}),
    );
    let cv = crate::policy::caveats(&p);
    let find = |s: &str, pl: &str| cv.iter().find(|c| c.setting == s && c.platform == pl);
    assert!(find("PasswordMinimumLength", "ios").is_none());
    assert_eq!(
        find("PasswordTimeout", "ios").map(|c| c.status.as_str()),
        Some("converted_with_loss")
    );
    assert!(find("PasswordTimeout", "ios")
        .is_some_and(|c| c.note.contains("passcodeMinutesOfInactivityBeforeLock = 5")));
    assert_eq!(
        find("MaxPasswordAttemptsBeforeWipe", "ios").map(|c| c.status.as_str()),
        Some("clamped")
    );
    assert_eq!(
        find("WLANEnabled", "windows").map(|c| c.status.as_str()),
        Some("not_migrated")
    );
    assert!(find("WLANEnabled", "ios").is_none());
    assert!(find("AllowiCloudBackup", "windows").is_none());
    assert_eq!(
        find("MaxPasswordGracePeriod", "ios").map(|c| c.status.as_str()),
        Some("manual")
    );
    assert!(cv.iter().all(|c| c.policy == "P"));
}
