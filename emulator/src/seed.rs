//! The data a new database starts with: two tenants with their users and roles, a partner tenant
//! with three customers it manages through delegated admin relationships (GDAP), the app
//! registrations that may ask for tokens, the `AllowSelfServicePurchase` policy, the products and
//! offer types of the service's documentation, and the old product ids that current ones replaced.
//!
//! The store writes this only into an empty database, so changes survive restarts (a database of
//! an older emulator gains what the migrations add, see `store`).

use crate::model::{AppPermission, PolicyValue, Role};

/// The id of the first tenant, `contoso`.
pub const DEFAULT_TENANT_ID: &str = "00000000-0000-0000-0000-0000000c0de1";

/// The name of the first tenant.
pub const DEFAULT_TENANT_NAME: &str = "contoso";

/// The id of the second tenant, `fabrikam`.
pub const FABRIKAM_TENANT_ID: &str = "00000000-0000-0000-0000-0000000fab01";

/// The id of the partner tenant, `treyresearch`, which manages the three customers below through
/// delegated admin relationships.
pub const PARTNER_TENANT_ID: &str = "00000000-0000-0000-0000-00000000a001";

/// The initial domain of the partner tenant.
pub const PARTNER_DOMAIN: &str = "treyresearch.onmicrosoft.com";

/// The partner's Global Administrator, whom every seeded relationship assigns its roles.
pub const PARTNER_ADMIN_UPN: &str = "partneradmin@treyresearch.onmicrosoft.com";

/// The object id of [`PARTNER_ADMIN_UPN`].
pub const PARTNER_ADMIN_OID: &str = "a001a000-0000-4000-8000-000000000001";

/// A partner user without a directory role whom no relationship assigns: no access to any
/// customer.
pub const PARTNER_AGENT_UPN: &str = "helpdesk@treyresearch.onmicrosoft.com";

/// The id of the customer `adatum`: the partner holds Billing Administrator there.
pub const ADATUM_TENANT_ID: &str = "00000000-0000-0000-0000-00000000b001";

/// The id of the customer `litware`: the partner holds Global Administrator there.
pub const LITWARE_TENANT_ID: &str = "00000000-0000-0000-0000-00000000b002";

/// The id of the customer `tailspin`: the partner holds Global Reader there (reads only).
pub const TAILSPIN_TENANT_ID: &str = "00000000-0000-0000-0000-00000000b003";

/// The id of the partner's relationship with adatum.
pub const ADATUM_RELATIONSHIP_ID: &str = "a001b001-0000-4000-8000-000000000001";

/// The id of the partner's relationship with litware.
pub const LITWARE_RELATIONSHIP_ID: &str = "a001b002-0000-4000-8000-000000000002";

/// The id of the partner's relationship with tailspin.
pub const TAILSPIN_RELATIONSHIP_ID: &str = "a001b003-0000-4000-8000-000000000003";

/// How long the seeded relationships last from the moment the database is seeded, in days (the
/// longest relationship Partner Center allows: two years).
pub const RELATIONSHIP_DAYS: i64 = 730;

/// The client id of the partner's multi-tenant app (home tenant `treyresearch`, permission
/// `Policy.ReadWrite.AllowSelfServicePurchase`), consented in adatum and litware, not tailspin.
pub const PARTNER_APP_CLIENT_ID: &str = "a0017e57-0000-4000-8000-00000000a0a1";

/// The client secret of [`PARTNER_APP_CLIENT_ID`].
pub const PARTNER_APP_CLIENT_SECRET: &str = "emulator-partner-app-secret";

/// The application (client) id of the MSCommerce module, a public client.
pub const MODULE_CLIENT_ID: &str = "3d5cffa9-04da-4657-8cab-c7f074657cad";

/// The client id of the seeded confidential app registration (for app-only tokens).
pub const APP_CLIENT_ID: &str = "11111111-1111-1111-1111-111111111111";

/// The client secret of [`APP_CLIENT_ID`].
pub const APP_CLIENT_SECRET: &str = "emulator-app-secret";

/// The id of the self-service purchase policy.
pub const ALLOW_SELF_SERVICE_PURCHASE: &str = "AllowSelfServicePurchase";

/// A tenant of the seed.
#[derive(Debug, Clone, Copy)]
pub struct SeedTenant {
    /// The tenant id.
    pub id: &'static str,
    /// The tenant's name.
    pub name: &'static str,
    /// The tenant's initial domain.
    pub domain: &'static str,
    /// The tenant's users.
    pub users: &'static [SeedUser],
}

/// A user of the seed.
#[derive(Debug, Clone, Copy)]
pub struct SeedUser {
    /// The object id.
    pub oid: &'static str,
    /// The user principal name.
    pub upn: &'static str,
    /// The display name.
    pub display_name: &'static str,
    /// The directory roles.
    pub roles: &'static [Role],
}

/// An app registration of the seed, usable in every tenant.
#[derive(Debug, Clone, Copy)]
pub struct SeedApp {
    /// The application (client) id.
    pub client_id: &'static str,
    /// The display name.
    pub display_name: &'static str,
    /// The service principal's object id.
    pub object_id: &'static str,
    /// The client secret; `None` for a public client.
    pub secret: Option<&'static str>,
}

/// An app registration of the seed that lives in a home tenant and may be consented elsewhere,
/// as the apps `add-app` registers.
#[derive(Debug, Clone, Copy)]
pub struct SeedTenantApp {
    /// The application (client) id.
    pub client_id: &'static str,
    /// The display name.
    pub display_name: &'static str,
    /// The application object's id.
    pub object_id: &'static str,
    /// The client secret.
    pub secret: &'static str,
    /// The home tenant's id.
    pub home_tenant_id: &'static str,
    /// Whether other tenants may consent to it.
    pub multi_tenant: bool,
    /// The application permissions granted.
    pub roles: &'static [AppPermission],
    /// The tenants that consented (the home tenant among them), each with the id of the app's
    /// service principal there.
    pub consents: &'static [(&'static str, &'static str)],
}

/// A delegated admin relationship of the seed: a partner's roles in a customer tenant.
#[derive(Debug, Clone, Copy)]
pub struct SeedRelationship {
    /// The relationship id.
    pub id: &'static str,
    /// Its name, as Partner Center shows it.
    pub display_name: &'static str,
    /// The partner tenant's id.
    pub partner_tenant_id: &'static str,
    /// The customer tenant's id.
    pub customer_tenant_id: &'static str,
    /// The roles it grants in the customer.
    pub roles: &'static [Role],
    /// The object ids of the partner users who hold them.
    pub users: &'static [&'static str],
    /// How long it lasts from the moment it is seeded, in days.
    pub days: i64,
}

/// A policy of the seed.
#[derive(Debug, Clone, Copy)]
pub struct SeedPolicy {
    /// The policy id.
    pub id: &'static str,
    /// What the policy controls.
    pub description: &'static str,
    /// Every seeded tenant's default value.
    pub default_value: PolicyValue,
}

/// A product of the seed.
#[derive(Debug, Clone, Copy)]
pub struct SeedProduct {
    /// The current product id.
    pub id: &'static str,
    /// The display name.
    pub name: &'static str,
    /// Whether the product offers a trial without a payment method.
    pub trial_without_payment_method: bool,
}

/// An old product id and the current id that replaced it.
#[derive(Debug, Clone, Copy)]
pub struct SeedAlias {
    /// The old id.
    pub old_id: &'static str,
    /// The current id that replaced it.
    pub product_id: &'static str,
}

/// A third-party offer type of the seed.
#[derive(Debug, Clone, Copy)]
pub struct SeedOfferType {
    /// The offer type id.
    pub id: &'static str,
    /// The display name.
    pub name: &'static str,
}

/// Everything a new database starts with.
#[derive(Debug, Clone, Copy)]
pub struct Seed {
    /// The tenants; each gets every policy, product and offer type.
    pub tenants: &'static [SeedTenant],
    /// The app registrations every tenant may use.
    pub apps: &'static [SeedApp],
    /// The app registrations with a home tenant.
    pub tenant_apps: &'static [SeedTenantApp],
    /// The delegated admin relationships.
    pub relationships: &'static [SeedRelationship],
    /// The policies.
    pub policies: &'static [SeedPolicy],
    /// The products.
    pub products: &'static [SeedProduct],
    /// The old product ids.
    pub aliases: &'static [SeedAlias],
    /// The offer types.
    pub offer_types: &'static [SeedOfferType],
    /// The value every product and offer type starts with.
    pub initial_value: PolicyValue,
}

/// The seed of a new database.
pub const SEED: Seed = Seed {
    tenants: TENANTS,
    apps: APPS,
    tenant_apps: TENANT_APPS,
    relationships: RELATIONSHIPS,
    policies: &[SeedPolicy {
        id: ALLOW_SELF_SERVICE_PURCHASE,
        description: "Controls whether users in your organization can make self-service \
                      purchases of Microsoft products or select third-party offers.",
        default_value: PolicyValue::Enabled,
    }],
    products: PRODUCTS,
    aliases: ALIASES,
    offer_types: OFFER_TYPES,
    initial_value: PolicyValue::Enabled,
};

const fn user(
    oid: &'static str,
    upn: &'static str,
    display_name: &'static str,
    roles: &'static [Role],
) -> SeedUser {
    SeedUser {
        oid,
        upn,
        display_name,
        roles,
    }
}

/// The tenants: contoso and fabrikam, each with an administrator, a reader and (in contoso) a
/// billing administrator and a user without an administrative role; the partner treyresearch, and
/// its customers adatum, litware and tailspin, each with its own administrator.
const TENANTS: &[SeedTenant] = &[
    SeedTenant {
        id: DEFAULT_TENANT_ID,
        name: DEFAULT_TENANT_NAME,
        domain: "contoso.onmicrosoft.com",
        users: &[
            user(
                "c0de1a00-0000-4000-8000-000000000001",
                "admin@contoso.onmicrosoft.com",
                "Contoso Administrator",
                &[Role::GlobalAdministrator],
            ),
            user(
                "c0de1a00-0000-4000-8000-000000000002",
                "billing@contoso.onmicrosoft.com",
                "Contoso Billing Administrator",
                &[Role::BillingAdministrator],
            ),
            user(
                "c0de1a00-0000-4000-8000-000000000003",
                "reader@contoso.onmicrosoft.com",
                "Contoso Reader",
                &[Role::GlobalReader],
            ),
            user(
                "c0de1a00-0000-4000-8000-000000000004",
                "user@contoso.onmicrosoft.com",
                "Contoso User",
                &[],
            ),
        ],
    },
    SeedTenant {
        id: FABRIKAM_TENANT_ID,
        name: "fabrikam",
        domain: "fabrikam.onmicrosoft.com",
        users: &[
            user(
                "fab01a00-0000-4000-8000-000000000001",
                "admin@fabrikam.onmicrosoft.com",
                "Fabrikam Administrator",
                &[Role::GlobalAdministrator],
            ),
            user(
                "fab01a00-0000-4000-8000-000000000002",
                "reader@fabrikam.onmicrosoft.com",
                "Fabrikam Reader",
                &[Role::GlobalReader],
            ),
        ],
    },
    SeedTenant {
        id: PARTNER_TENANT_ID,
        name: "treyresearch",
        domain: PARTNER_DOMAIN,
        users: &[
            user(
                PARTNER_ADMIN_OID,
                PARTNER_ADMIN_UPN,
                "Trey Research Partner Administrator",
                &[Role::GlobalAdministrator],
            ),
            user(
                "a001a000-0000-4000-8000-000000000002",
                PARTNER_AGENT_UPN,
                "Trey Research Helpdesk Agent",
                &[],
            ),
        ],
    },
    SeedTenant {
        id: ADATUM_TENANT_ID,
        name: "adatum",
        domain: "adatum.onmicrosoft.com",
        users: &[user(
            "b001a000-0000-4000-8000-000000000001",
            "admin@adatum.onmicrosoft.com",
            "Adatum Administrator",
            &[Role::GlobalAdministrator],
        )],
    },
    SeedTenant {
        id: LITWARE_TENANT_ID,
        name: "litware",
        domain: "litware.onmicrosoft.com",
        users: &[user(
            "b002a000-0000-4000-8000-000000000001",
            "admin@litware.onmicrosoft.com",
            "Litware Administrator",
            &[Role::GlobalAdministrator],
        )],
    },
    SeedTenant {
        id: TAILSPIN_TENANT_ID,
        name: "tailspin",
        domain: "tailspin.onmicrosoft.com",
        users: &[user(
            "b003a000-0000-4000-8000-000000000001",
            "admin@tailspin.onmicrosoft.com",
            "Tailspin Administrator",
            &[Role::GlobalAdministrator],
        )],
    },
];

/// The partner's app that manages its customers' policies on its own (app-only): consented in
/// adatum and litware, not in tailspin.
const TENANT_APPS: &[SeedTenantApp] = &[SeedTenantApp {
    client_id: PARTNER_APP_CLIENT_ID,
    display_name: "Trey Research customer automation",
    object_id: "5e7a1000-0000-4000-8000-00000000a001",
    secret: PARTNER_APP_CLIENT_SECRET,
    home_tenant_id: PARTNER_TENANT_ID,
    multi_tenant: true,
    roles: &[AppPermission::ReadWrite],
    consents: &[
        (PARTNER_TENANT_ID, "5e7a2000-0000-4000-8000-00000000a001"),
        (ADATUM_TENANT_ID, "5e7a2000-0000-4000-8000-00000000b001"),
        (LITWARE_TENANT_ID, "5e7a2000-0000-4000-8000-00000000b002"),
    ],
}];

/// The partner's relationships with its customers, each assigning its roles to the partner's
/// administrator.
const RELATIONSHIPS: &[SeedRelationship] = &[
    SeedRelationship {
        id: ADATUM_RELATIONSHIP_ID,
        display_name: "Trey Research - Adatum billing",
        partner_tenant_id: PARTNER_TENANT_ID,
        customer_tenant_id: ADATUM_TENANT_ID,
        roles: &[Role::BillingAdministrator],
        users: &[PARTNER_ADMIN_OID],
        days: RELATIONSHIP_DAYS,
    },
    SeedRelationship {
        id: LITWARE_RELATIONSHIP_ID,
        display_name: "Trey Research - Litware administration",
        partner_tenant_id: PARTNER_TENANT_ID,
        customer_tenant_id: LITWARE_TENANT_ID,
        roles: &[Role::GlobalAdministrator],
        users: &[PARTNER_ADMIN_OID],
        days: RELATIONSHIP_DAYS,
    },
    SeedRelationship {
        id: TAILSPIN_RELATIONSHIP_ID,
        display_name: "Trey Research - Tailspin read only",
        partner_tenant_id: PARTNER_TENANT_ID,
        customer_tenant_id: TAILSPIN_TENANT_ID,
        roles: &[Role::GlobalReader],
        users: &[PARTNER_ADMIN_OID],
        days: RELATIONSHIP_DAYS,
    },
];

/// The MSCommerce module (a public client) and a confidential app for app-only tokens.
const APPS: &[SeedApp] = &[
    SeedApp {
        client_id: MODULE_CLIENT_ID,
        display_name: "Microsoft Commerce PowerShell",
        object_id: "5e7a1000-0000-4000-8000-000000000001",
        secret: None,
    },
    SeedApp {
        client_id: APP_CLIENT_ID,
        display_name: "Emulator automation app",
        object_id: "5e7a1000-0000-4000-8000-000000000002",
        secret: Some(APP_CLIENT_SECRET),
    },
];

const fn product(id: &'static str, name: &'static str, trial: bool) -> SeedProduct {
    SeedProduct {
        id,
        name,
        trial_without_payment_method: trial,
    }
}

/// The products of the service's documentation, with the "trial without payment method" column.
const PRODUCTS: &[SeedProduct] = &[
    product("CFQ7TTC0N8SS", "Clipchamp Premium", false),
    product("CFQ7TTC0MM8R", "Microsoft 365 Copilot", false),
    product("CFQ7TTC0LH05", "Microsoft 365 F3", false),
    product("CFQ7TTC0N8SL", "Microsoft Purview Discovery", true),
    product("CFQ7TTC0LH2H", "Power Apps per user", false),
    product("CFQ7TTC0LH3L", "Power Automate per user", false),
    product("CFQ7TTC0LSGZ", "Power Automate RPA", false),
    product("CFQ7TTC0H6RP", "Power BI Premium (standalone)", false),
    product("CFQ7TTC0H9MP", "Power BI Pro", false),
    product("CFQ7TTC0HDB1", "Planner Plan 1", true),
    product("CFQ7TTC0HDB0", "Project Plan 3", false),
    product("CFQ7TTC0S3X1", "Python in Excel", false),
    product("CFQ7TTC0J1FV", "Teams Exploratory", true),
    product("CFQ7TTC0RM8K", "Teams Premium Introductory Pricing", true),
    product("CFQ7TTC0HD33", "Visio Plan 1", true),
    product("CFQ7TTC0HD32", "Visio Plan 2", false),
    product(
        "CFQ7TTC0PW0V",
        "Viva Goals (self-service trials only)",
        true,
    ),
];

const fn alias(old_id: &'static str, product_id: &'static str) -> SeedAlias {
    SeedAlias { old_id, product_id }
}

/// Old ids from the earlier documentation and the products that replaced them. The three
/// Windows 365 ids of that documentation have no current product and are left out.
const ALIASES: &[SeedAlias] = &[
    alias("CFQ7TTC0KP0P", "CFQ7TTC0LH2H"), // Power Apps per user
    alias("CFQ7TTC0KP0N", "CFQ7TTC0LH3L"), // Power Automate per user
    alias("CFQ7TTC0KXG6", "CFQ7TTC0LSGZ"), // Power Automate RPA
    alias("CFQ7TTC0KXG7", "CFQ7TTC0H6RP"), // Power BI Premium (standalone)
    alias("CFQ7TTC0L3PB", "CFQ7TTC0H9MP"), // Power BI Pro
    alias("CFQ7TTC0KXND", "CFQ7TTC0HDB1"), // Project Plan 1, now Planner Plan 1
    alias("CFQ7TTC0KXNC", "CFQ7TTC0HDB0"), // Project Plan 3
    alias("CFQ7TTC0KXN9", "CFQ7TTC0HD33"), // Visio Plan 1
    alias("CFQ7TTC0KXN8", "CFQ7TTC0HD32"), // Visio Plan 2
];

/// The third-party offer types of the service's documentation.
const OFFER_TYPES: &[SeedOfferType] = &[
    SeedOfferType {
        id: "SaaS",
        name: "Software as a Service",
    },
    SeedOfferType {
        id: "POWERBIVISUALS",
        name: "Power BI Visuals",
    },
    SeedOfferType {
        id: "DYNAMICSCE",
        name: "Dynamics 365 Dataverse Apps",
    },
    SeedOfferType {
        id: "DYNAMICSBC",
        name: "Dynamics 365 Business Central",
    },
];

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn upns_are_unique_and_in_their_tenant_domain() {
        let mut upns = HashSet::new();
        for tenant in SEED.tenants {
            for user in tenant.users {
                assert!(upns.insert(user.upn.to_lowercase()), "{}", user.upn);
                assert!(
                    user.upn.ends_with(&format!("@{}", tenant.domain)),
                    "{}",
                    user.upn
                );
            }
        }
        assert_eq!(upns.len(), 11);
    }

    #[test]
    fn relationships_join_a_partner_user_to_another_seeded_tenant() {
        let tenant = |id: &str| SEED.tenants.iter().find(|t| t.id == id);
        for relationship in SEED.relationships {
            let partner = tenant(relationship.partner_tenant_id).expect("the partner is seeded");
            assert!(
                tenant(relationship.customer_tenant_id).is_some(),
                "{relationship:?}"
            );
            assert_ne!(
                relationship.partner_tenant_id,
                relationship.customer_tenant_id
            );
            assert!(!relationship.roles.is_empty(), "{relationship:?}");
            for oid in relationship.users {
                assert!(partner.users.iter().any(|u| u.oid == *oid), "{oid}");
            }
        }
        for app in SEED.tenant_apps {
            assert!(tenant(app.home_tenant_id).is_some());
            assert!(app.consents.iter().any(|(t, _)| *t == app.home_tenant_id));
            for (consenting, _) in app.consents {
                assert!(tenant(consenting).is_some(), "{consenting}");
            }
        }
    }

    #[test]
    fn every_alias_points_at_a_seeded_product_and_no_id_is_both() {
        let current: HashSet<&str> = SEED.products.iter().map(|p| p.id).collect();
        assert_eq!(current.len(), 17);
        for alias in SEED.aliases {
            assert!(current.contains(alias.product_id), "{alias:?}");
            assert!(!current.contains(alias.old_id), "{alias:?}");
        }
    }
}
