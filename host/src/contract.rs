//! Bindings for the plugin contract in `wit/` and its version rules.

wasmtime::component::bindgen!({
    path: "../wit",
    world: "plugin",
    with: {
        "taskport:plugin/host.input": crate::runtime::resources::PluginInput,
        "taskport:plugin/host.sink": crate::runtime::resources::PluginSink,
    },
    imports: { default: trappable },
});

/// The WIT package every plugin implements.
pub const CONTRACT_PACKAGE: &str = "taskport:plugin";

/// The contract version this host implements.
pub const CONTRACT_VERSION: &str = "0.1.0";

/// Whether a plugin built against `version` of the contract can run here:
/// the same major version (for 0.x, the same minor) at or below ours, as in
/// semver.
pub fn is_supported(version: &str) -> bool {
    let (Some(theirs), Some(ours)) = (parse_version(version), parse_version(CONTRACT_VERSION))
    else {
        return false;
    };
    let compatible_line = if ours.0 == 0 {
        theirs.0 == 0 && theirs.1 == ours.1
    } else {
        theirs.0 == ours.0
    };
    compatible_line && theirs <= ours
}

/// `major.minor.patch` of a semver string (pre-release and build metadata
/// ignored), or `None` when it is not one.
pub fn parse_version(version: &str) -> Option<(u64, u64, u64)> {
    let core = version.split(['-', '+']).next()?;
    let mut parts = core.split('.').map(|part| part.parse::<u64>().ok());
    let parsed = (parts.next()??, parts.next()??, parts.next()??);
    parts.next().is_none().then_some(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_minor_of_zero_major_is_supported() {
        assert!(is_supported("0.1.0"));
        assert!(!is_supported("0.2.0"));
        assert!(!is_supported("1.0.0"));
        assert!(!is_supported("0.1.1"), "newer than the host");
        assert!(!is_supported("banana"));
    }
}
