//! Version bumps and version requirements.

use semver::{Version, VersionReq};

/// How far `--bump` moves the workspace version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Bump {
    /// `x.y.z` → `x.y.(z+1)`.
    Patch,
    /// `x.y.z` → `x.(y+1).0`.
    Minor,
    /// `x.y.z` → `(x+1).0.0`.
    Major,
    /// Exactly this version, which must be greater than the current one.
    Exact(Version),
}

impl Bump {
    /// Parses `patch`, `minor`, `major` or a semantic version such as `0.2.0` or `1.0.0-rc.1`.
    pub(crate) fn parse(text: &str) -> Result<Self, String> {
        match text {
            "patch" => Ok(Bump::Patch),
            "minor" => Ok(Bump::Minor),
            "major" => Ok(Bump::Major),
            other => Version::parse(other).map(Bump::Exact).map_err(|e| {
                format!("--bump `{other}` is neither patch, minor, major nor a version: {e}")
            }),
        }
    }

    /// The word shown in the plan.
    pub(crate) fn describe(&self) -> String {
        match self {
            Bump::Patch => "patch".to_owned(),
            Bump::Minor => "minor".to_owned(),
            Bump::Major => "major".to_owned(),
            Bump::Exact(version) => format!("explicit {version}"),
        }
    }

    /// The version after `current`. A pre-release or build suffix is dropped by the named bumps;
    /// an explicit version must be greater than `current`.
    pub(crate) fn apply(&self, current: &Version) -> Result<Version, String> {
        let next = match self {
            Bump::Patch => {
                let patch = current
                    .patch
                    .checked_add(1)
                    .ok_or("the patch number overflows")?;
                Version::new(current.major, current.minor, patch)
            }
            Bump::Minor => {
                let minor = current
                    .minor
                    .checked_add(1)
                    .ok_or("the minor number overflows")?;
                Version::new(current.major, minor, 0)
            }
            Bump::Major => {
                let major = current
                    .major
                    .checked_add(1)
                    .ok_or("the major number overflows")?;
                Version::new(major, 0, 0)
            }
            Bump::Exact(version) => {
                if version <= current {
                    return Err(format!(
                        "--bump {version} is not greater than the current version {current}"
                    ));
                }
                version.clone()
            }
        };
        Ok(next)
    }
}

/// Whether the requirement `req` (as `cargo metadata` prints it) accepts `version`.
pub(crate) fn req_matches(req: &str, version: &Version) -> bool {
    VersionReq::parse(req).is_ok_and(|req| req.matches(version))
}

/// The requirement `old` rewritten for `next`, keeping its operator: `"0.1.0"` → `"0.2.0"`,
/// `"=0.1.0"` → `"=0.2.0"`, `"^0.1"` → `"^0.2.0"`.
pub(crate) fn rewrite_req(old: &str, next: &Version) -> String {
    let trimmed = old.trim_start();
    let operator_len = trimmed.find(|c: char| c.is_ascii_digit()).unwrap_or(0);
    let operator = trimmed[..operator_len].trim_end();
    format!("{operator}{next}")
}
