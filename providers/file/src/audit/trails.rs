//! CloudTrail's own configuration, as the AWS CLI prints it: `aws cloudtrail describe-trails
//! --include-shadow-trails` (`trailList`), `get-trail-status` and `get-event-selectors`. The
//! live provider turns the SDK's answers into the same JSON and reads it here, so live and
//! offline checks are one code path. Whether a region is logged is decided in the core
//! (`netdrift_snapshots::logging`).

use serde_json::Value;

use netdrift_snapshots::logging::{
    records_management_writes, BasicSelector, EventSelectors, FieldSelector, Trail,
};

use crate::json::{ConvertError, Node};

/// A trail of `describe-trails` output, before its status and selectors are known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Described {
    pub arn: String,
    pub home_region: String,
    pub multi_region: bool,
    pub organization: bool,
}

/// The trails of a `describe-trails` document.
pub fn described(doc: &Value) -> Result<Vec<Described>, ConvertError> {
    let root = Node::root(doc);
    let mut out = Vec::new();
    for t in root.list("trailList")? {
        out.push(Described {
            arn: t.req_str("TrailARN")?.to_string(),
            home_region: t.req_str("HomeRegion")?.to_string(),
            multi_region: t.bool("IsMultiRegionTrail")?.unwrap_or(false),
            organization: t.bool("IsOrganizationTrail")?.unwrap_or(false),
        });
    }
    Ok(out)
}

/// `IsLogging` of a `get-trail-status` document.
pub fn is_logging(doc: &Value) -> Result<bool, ConvertError> {
    let root = Node::root(doc);
    root.bool("IsLogging")?
        .ok_or_else(|| root.err("`IsLogging` is missing"))
}

/// The selectors of a `get-event-selectors` document.
pub fn event_selectors(doc: &Value) -> Result<EventSelectors, ConvertError> {
    let root = Node::root(doc);
    let mut out = EventSelectors::default();
    for s in root.list("EventSelectors")? {
        out.basic.push(BasicSelector {
            // CloudTrail's defaults: All, and management events included.
            read_write_type: s.str("ReadWriteType")?.unwrap_or("All").to_string(),
            include_management_events: s.bool("IncludeManagementEvents")?.unwrap_or(true),
        });
    }
    for s in root.list("AdvancedEventSelectors")? {
        let mut fields = Vec::new();
        for f in s.list("FieldSelectors")? {
            let values = |key| -> Result<Vec<String>, ConvertError> {
                Ok(f.strings(key)?
                    .into_iter()
                    .map(|(_, v)| v.to_string())
                    .collect())
            };
            fields.push(FieldSelector {
                field: f.req_str("Field")?.to_string(),
                equals: values("Equals")?,
                not_equals: values("NotEquals")?,
            });
        }
        out.advanced.push(fields);
    }
    Ok(out)
}

/// A trail with what its status and selectors said; `None` where that document could not be
/// read.
pub fn trail(
    d: &Described,
    status: Option<&Value>,
    selectors: Option<&Value>,
) -> Result<Trail, ConvertError> {
    Ok(Trail {
        arn: d.arn.clone(),
        home_region: d.home_region.clone(),
        multi_region: d.multi_region,
        organization: d.organization,
        logging: status.map(is_logging).transpose()?,
        management_writes: selectors
            .map(|s| event_selectors(s).map(|s| records_management_writes(&s)))
            .transpose()?,
    })
}
