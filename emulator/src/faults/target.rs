//! The product or offer type a licensing request is about, read from its path (what the
//! `failItems` knob matches).

use axum::http::Method;
use percent_encoding::percent_decode_str;

use crate::model::ItemKind;

/// The product or offer type a licensing request is about, read from its path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetItem {
    /// A product or an offer type.
    pub kind: ItemKind,
    /// The id as the path has it, percent-decoded.
    pub id: String,
}

impl TargetItem {
    /// The item of `/v1.0/policies/{policyId}/products/{productId}` or
    /// `/v1.0/policies/{policyId}/offerTypes/{offerType}` (under either prefix of
    /// [`PREFIXES`](crate::routes::licensing::PREFIXES), or without one); `None` for any other
    /// path.
    pub fn from_path(path: &str) -> Option<Self> {
        let rest = crate::routes::licensing::route_path(path).unwrap_or(path);
        let mut segments = rest.strip_prefix('/')?.split('/');
        let (Some("policies"), Some(policy), Some(kind), Some(id), None) = (
            segments.next(),
            segments.next(),
            segments.next(),
            segments.next(),
            segments.next(),
        ) else {
            return None;
        };
        if policy.is_empty() || id.is_empty() {
            return None;
        }
        let kind = match kind {
            "products" => ItemKind::Product,
            "offerTypes" => ItemKind::OfferType,
            _ => return None,
        };
        Some(Self {
            kind,
            id: percent_decode(id),
        })
    }

    /// The reason of a `failItems` answer: `Product X cannot be changed (injected fault)`.
    pub fn failure_reason(&self, method: &Method) -> String {
        let kind = match self.kind {
            ItemKind::Product => "Product",
            ItemKind::OfferType => "Offer type",
        };
        let what = if method == Method::PUT {
            "changed"
        } else {
            "read"
        };
        format!("{kind} {} cannot be {what} (injected fault)", self.id)
    }
}

/// Decodes `%XX` escapes: an escape that is not `%` and two hex digits is kept as it is, `+`
/// stays `+` (a path is not a form), and invalid UTF-8 is replaced.
fn percent_decode(text: &str) -> String {
    percent_decode_str(text).decode_utf8_lossy().into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_item_is_read_from_item_paths_only() {
        let item = |path: &str| TargetItem::from_path(path);
        assert_eq!(
            item("/v1.0/policies/P/products/CFQ7TTC0%4aX%2F%zz"),
            Some(TargetItem {
                kind: ItemKind::Product,
                id: "CFQ7TTC0JX/%zz".to_owned()
            })
        );
        assert_eq!(
            item("/policies/P/offerTypes/SaaS").map(|item| item.kind),
            Some(ItemKind::OfferType)
        );
        assert_eq!(
            item("/v1/policies/P/offerTypes/SaaS"),
            Some(TargetItem {
                kind: ItemKind::OfferType,
                id: "SaaS".to_owned()
            })
        );
        for path in [
            "/v1/policies/P",
            "/v10/policies/P/products/X",
            "/v2/policies/P/products/X",
            "/v1.0/policies",
            "/v1.0/policies/P",
            "/v1.0/policies/P/products",
            "/v1.0/policies/P/products/",
            "/v1.0/policies/P/products/X/more",
            "/v1.0/policies/P/Products/X",
            "/v1.0/policies//products/X",
            "/v1.0/other/P/products/X",
        ] {
            assert_eq!(item(path), None, "{path}");
        }
        assert_eq!(percent_decode("%E2%82%AC%"), "\u{20ac}%");
    }

    #[test]
    fn percent_decoding_keeps_what_is_not_an_escape() {
        // The outputs of the hand-written decoder this replaced: a path is not a form, so `+`
        // stays; a `%` not followed by two hex digits (either case) stays; bad UTF-8 is replaced.
        for (path, decoded) in [
            ("CFQ7TTC0%4aX%2F%zz", "CFQ7TTC0JX/%zz"),
            ("a+b%2B", "a+b+"),
            ("%", "%"),
            ("%4", "%4"),
            ("%4g", "%4g"),
            ("%+1", "%+1"),
            ("%%41", "%A"),
            ("%4%41", "%4A"),
            ("%20x%7e", " x~"),
            ("%C3%A9", "\u{e9}"),
            ("%E2%82%AC%", "\u{20ac}%"),
            ("%FF", "\u{fffd}"),
            ("%e2%82", "\u{fffd}"),
            ("%00", "\0"),
        ] {
            assert_eq!(percent_decode(path), decoded, "{path}");
        }
    }
}
