//! A placement as the contract and `payhost.toml` write it: where one
//! hidden value may stand in a request, in text. A 0.3.0 connector
//! declares these in `info()` (the WIT record `placement` has the same
//! fields), an operator writes them in a connector's section, and a signed
//! package's manifest lists them; `policy::placement` reads them.

use serde::{Deserialize, Serialize};

/// A placement as it is written in `payhost.toml`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlacementSpec {
    /// `secret:NAME`, `derived:NAME+NAME`, `card:number` or `card:cvv`.
    pub value: String,
    /// The method and path pattern: `POST /pay.do`, `POST **/pay.do` (`*`
    /// is one path segment, `**` any number), `* /api/*` for any method.
    pub request: String,
    /// `header:NAME`, `query:NAME`, `json:/POINTER`, `xml:/ELEMENT/PATH`
    /// or `form:NAME`.
    pub at: String,
    /// `raw`, `hex`, `hex-upper`, `base64`, `base64url`, `json-string`,
    /// `xml-text` or `url-component`.
    pub encoding: String,
    /// A fixed text before the value, in a header only (`Bearer `).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
    /// One of the granted origins; any of them when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
}
