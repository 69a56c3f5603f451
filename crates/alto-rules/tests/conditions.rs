//! Every condition of DESIGN §4, at and around its boundaries.

mod common;

use alto_rules::FileFacts;
use common::{DAY, NOW, SECOND, eval_at, file, matches};

#[test]
fn no_conditions_match_everything() {
    assert!(matches("", &file("/any/where", 0)));
    assert!(matches("", &file("", 0)));
}

#[test]
fn min_size_is_inclusive() {
    assert!(matches("min_size = 1000", &file("/f", 1000)));
    assert!(matches("min_size = 1000", &file("/f", 1001)));
    assert!(!matches("min_size = 1000", &file("/f", 999)));
    assert!(matches("min_size = \"1KB\"", &file("/f", 1000)));
    assert!(!matches("min_size = \"1KiB\"", &file("/f", 1023)));
    assert!(matches("min_size = \"1KiB\"", &file("/f", 1024)));
    assert!(matches("min_size = 0", &file("/f", 0)));
}

#[test]
fn max_size_is_inclusive() {
    assert!(matches("max_size = \"1.5GB\"", &file("/f", 1_500_000_000)));
    assert!(!matches("max_size = \"1.5GB\"", &file("/f", 1_500_000_001)));
    assert!(matches("max_size = 0", &file("/f", 0)));
    assert!(!matches("max_size = 0", &file("/f", 1)));
    assert!(matches(
        "max_size = \"18446744073709551615\"",
        &file("/f", u64::MAX)
    ));
    assert!(!matches("max_size = \"16383PiB\"", &file("/f", u64::MAX)));
    assert!(matches("min_size = 5\nmax_size = 5", &file("/f", 5)));
}

fn aged(accessed: Option<i64>, modified: Option<i64>) -> FileFacts<'static> {
    FileFacts {
        path: "/f",
        size: 1,
        accessed: accessed.map(|a| NOW - a),
        modified: modified.map(|m| NOW - m),
    }
}

#[test]
fn accessed_before_is_strict() {
    let c = "accessed_before = \"30d\"";
    assert!(matches(c, &aged(Some(30 * DAY + 1), None)));
    assert!(!matches(c, &aged(Some(30 * DAY), None)));
    assert!(!matches(c, &aged(Some(30 * DAY - 1), None)));
    assert!(!matches(c, &aged(Some(0), None)));
}

#[test]
fn accessed_after_is_inclusive() {
    let c = "accessed_after = \"30d\"";
    assert!(matches(c, &aged(Some(30 * DAY), None)));
    assert!(matches(c, &aged(Some(30 * DAY - 1), None)));
    assert!(
        matches(c, &aged(Some(-DAY), None)),
        "a future access is after"
    );
    assert!(!matches(c, &aged(Some(30 * DAY + 1), None)));
}

#[test]
fn modified_conditions() {
    assert!(matches(
        "modified_before = \"2y\"",
        &aged(None, Some(730 * DAY + 1))
    ));
    assert!(!matches(
        "modified_before = \"2y\"",
        &aged(None, Some(730 * DAY))
    ));
    assert!(matches(
        "modified_after = \"7d\"",
        &aged(None, Some(7 * DAY))
    ));
    assert!(!matches(
        "modified_after = \"7d\"",
        &aged(None, Some(7 * DAY + 1))
    ));
    // Modified conditions never fall back to the access time.
    assert!(!matches(
        "modified_before = \"1s\"",
        &aged(Some(10 * DAY), None)
    ));
}

#[test]
fn accessed_falls_back_to_modified() {
    let c = "accessed_before = \"1h\"";
    assert!(matches(c, &aged(None, Some(2 * 3600 * SECOND))));
    assert!(!matches(c, &aged(None, Some(0))));
    // A known access time wins over the modified time.
    assert!(!matches(c, &aged(Some(0), Some(10 * DAY))));
}

#[test]
fn no_times_never_match_an_age_condition() {
    for c in [
        "accessed_before = \"1s\"",
        "accessed_after = \"100y\"",
        "modified_before = \"1s\"",
        "modified_after = \"100y\"",
    ] {
        assert!(!matches(c, &aged(None, None)), "{c}");
    }
    assert!(matches("min_size = 1", &aged(None, None)));
}

#[test]
fn accessed_window() {
    // Accessed between 90 and 30 days ago: both conditions together.
    let c = "accessed_before = \"30d\"\naccessed_after = \"90d\"";
    assert!(matches(c, &aged(Some(60 * DAY), None)));
    assert!(matches(c, &aged(Some(90 * DAY), None)));
    assert!(!matches(c, &aged(Some(30 * DAY), None)));
    assert!(!matches(c, &aged(Some(91 * DAY), None)));
    // A contradiction is allowed and simply never matches.
    let never = "accessed_before = \"90d\"\naccessed_after = \"30d\"";
    assert!(!matches(never, &aged(Some(60 * DAY), None)));
}

#[test]
fn now_is_a_parameter() {
    let set = common::toml("[[rule]]\nname = \"r\"\naccessed_before = \"1d\"\ntarget = \"t\"");
    let f = FileFacts {
        path: "/f",
        size: 1,
        accessed: Some(NOW),
        modified: None,
    };
    assert_eq!(eval_at(&set, &f, NOW), None);
    assert_eq!(eval_at(&set, &f, NOW + DAY), None);
    assert_eq!(eval_at(&set, &f, NOW + DAY + 1), Some(0));
    // Extreme times saturate instead of overflowing.
    assert_eq!(eval_at(&set, &f, i64::MIN), None);
    let old = FileFacts {
        accessed: Some(i64::MIN),
        ..f
    };
    assert_eq!(eval_at(&set, &old, i64::MAX), Some(0));
}

#[test]
fn extensions_any_of_case_insensitive() {
    let c = "extensions = [\"mov\", \".MP4\"]";
    assert!(matches(c, &file("/v/a.mov", 1)));
    assert!(matches(c, &file("/v/a.MOV", 1)));
    assert!(matches(c, &file("/v/a.Mp4", 1)));
    assert!(matches(c, &file("/v/a.b.mp4", 1)));
    assert!(!matches(c, &file("/v/a.mp4.bak", 1)));
    assert!(!matches(c, &file("/v/mov", 1)));
    assert!(
        !matches(c, &file("/v/.mov", 1)),
        "a leading dot is not an extension"
    );
    assert!(!matches(c, &file("/v/a.", 1)));
    assert!(
        !matches(c, &file("/v.mov/a", 1)),
        "the directory's dot does not count"
    );
    // Case-insensitive even when paths are case-sensitive, Unicode included.
    let c = "extensions = [\"ÉTÉ\"]";
    assert!(matches(c, &file("/x/a.été", 1)));
    let set = common::toml(
        "case_sensitive = true\n[[rule]]\nname = \"r\"\nextensions = [\"Pdf\"]\ntarget = \"t\"",
    );
    assert!(common::eval(&set, &file("/x/A.PDF", 1)).is_some());
}

#[test]
fn exclude_extensions() {
    let c = "exclude_extensions = [\"tmp\", \"part\"]";
    assert!(!matches(c, &file("/d/a.tmp", 1)));
    assert!(!matches(c, &file("/d/a.TMP", 1)));
    assert!(!matches(c, &file(r"C:\d\a.Part", 1)));
    assert!(matches(c, &file("/d/a.txt", 1)));
    assert!(
        matches(c, &file("/d/noext", 1)),
        "no extension is not excluded"
    );
    assert!(matches(c, &file("/d/.tmp", 1)));
    let both = "extensions = [\"mov\"]\nexclude_extensions = [\"mov\"]";
    assert!(!matches(both, &file("/d/a.mov", 1)));
}

#[test]
fn regex_is_searched_unanchored_in_the_normal_form() {
    let c = r"regex = 'render_v\d+'";
    assert!(matches(c, &file("/p/shot_render_v12_final.mov", 1)));
    assert!(!matches(c, &file("/p/shot_render_vX.mov", 1)));
    // The regex sees `/` separators, even for a Windows path.
    let c = "regex = 'Data/dept\\d'";
    assert!(matches(c, &file(r"C:\Data\dept3\x.pdf", 1)));
    assert!(matches(c, &file(r"C:\\Data\\\dept3\x.pdf", 1)));
    let anchored = "regex = '^//nas/'";
    assert!(matches(anchored, &file(r"\\nas\share\x", 1)));
    assert!(!matches(anchored, &file(r"/nas/share/x", 1)));
}

#[test]
fn all_conditions_together() {
    let c = r#"
        include = ["/media/**"]
        exclude = ["**/keep/**"]
        regex = "clip"
        min_size = "1MB"
        max_size = "1GB"
        accessed_before = "30d"
        modified_before = "60d"
        extensions = ["mov"]
        exclude_extensions = ["tmp"]
    "#;
    let good = FileFacts {
        path: "/media/show/clip01.mov",
        size: 5_000_000,
        accessed: Some(NOW - 31 * DAY),
        modified: Some(NOW - 61 * DAY),
    };
    assert!(matches(c, &good));
    assert!(!matches(
        c,
        &FileFacts {
            path: "/media/keep/clip01.mov",
            ..good
        }
    ));
    assert!(!matches(
        c,
        &FileFacts {
            path: "/other/clip01.mov",
            ..good
        }
    ));
    assert!(!matches(
        c,
        &FileFacts {
            path: "/media/show/take01.mov",
            ..good
        }
    ));
    assert!(!matches(
        c,
        &FileFacts {
            size: 999_999,
            ..good
        }
    ));
    assert!(!matches(
        c,
        &FileFacts {
            size: 1_000_000_001,
            ..good
        }
    ));
    assert!(!matches(
        c,
        &FileFacts {
            accessed: Some(NOW),
            ..good
        }
    ));
    assert!(!matches(
        c,
        &FileFacts {
            modified: Some(NOW),
            ..good
        }
    ));
    assert!(!matches(
        c,
        &FileFacts {
            path: "/media/show/clip01.mp4",
            ..good
        }
    ));
}
