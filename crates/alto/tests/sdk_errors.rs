//! A refused rule set that reaches a caller as `alto::Error` keeps the `RuleError` as its source:
//! the rule and field at fault stay readable (the bindings put them on their exceptions).

use alto::rules::RuleError;
use alto::{ErrorKind, PlanRequest, RuleSet};

const BAD: &str = "[[rule]]\nname = \"cold\"\nmin_size = \"10XB\"\ntarget = \"file:///t/\"\n";

/// What a service writes: every failure as `alto::Error`, rule sets parsed with `?`.
async fn plan_with(text: &str) -> alto::Result<u64> {
    let alto = alto::connect("memory://").await?;
    let tenant = alto.create_tenant("acme", &Default::default()).await?;
    let rules = RuleSet::from_toml(text)?;
    let outcome = tenant.plan(&rules, &PlanRequest::at(0)).await?;
    Ok(outcome.report.files_scanned)
}

#[tokio::test]
async fn a_rule_error_stays_the_source_of_the_handles_error() {
    let direct = RuleSet::from_toml(BAD).unwrap_err();
    let e = plan_with(BAD).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidRule);
    // The message is the rule error's, once (not repeated by the source).
    assert_eq!(e.to_string(), direct.to_string());
    assert_eq!(e.message(), direct.to_string());

    let source = std::error::Error::source(&e).expect("a source");
    let rule_error = source.downcast_ref::<RuleError>().expect("a RuleError");
    assert_eq!(rule_error, &direct);
    assert_eq!(rule_error.rule(), Some("cold"));
    assert_eq!(rule_error.field(), Some("min_size"));
    assert_eq!(e.rule_error(), Some(&direct));

    // Other errors carry no rule error.
    let other = alto::Error::not_found("nothing");
    assert!(other.rule_error().is_none());
    assert_eq!(plan_with("").await.unwrap(), 0);
}
