using System.Collections.Generic;

namespace MSCommerce.Interop
{
    /// <summary>Turns the library's output items into the module's output objects, by <c>Kind</c>.</summary>
    internal static class WireMapping
    {
        internal static IReadOnlyList<Policy> ToPolicies(WireItem[] items)
        {
            var policies = new List<Policy>(items.Length);
            foreach (var item in items)
            {
                policies.Add(ToPolicy(item));
            }

            return policies;
        }

        internal static Policy ToPolicy(WireItem item)
        {
            RequireKind(item, WireItem.PolicyKind);
            return new Policy
            {
                PolicyId = item.PolicyId,
                Description = item.Description,
                DefaultValue = item.DefaultValue,
            };
        }

        /// <summary>Products become <see cref="ProductPolicy"/>, other scopes <see cref="ScopePolicy"/>.</summary>
        internal static IReadOnlyList<object> ToProductPolicies(WireItem[] items)
        {
            var results = new List<object>(items.Length);
            foreach (var item in items)
            {
                results.Add(ToProductOrScopePolicy(item));
            }

            return results;
        }

        internal static object ToProductOrScopePolicy(WireItem item)
        {
            switch (item?.Kind)
            {
                case WireItem.ProductPolicyKind:
                    return new ProductPolicy
                    {
                        PolicyValue = item.PolicyValue,
                        ProductId = item.ProductId,
                        PolicyId = item.PolicyId,
                        ProductName = item.ProductName,
                    };
                case WireItem.ScopePolicyKind:
                    return new ScopePolicy
                    {
                        PolicyId = item.PolicyId,
                        PolicyValue = item.PolicyValue,
                        ScopeId = item.ScopeId,
                        ScopeValue = item.ScopeValue,
                        Scope = item.Scope,
                    };
                default:
                    throw UnexpectedKind(item, WireItem.ProductPolicyKind + "' or '" + WireItem.ScopePolicyKind);
            }
        }

        internal static PolicyDrift ToDrift(WireItem item)
        {
            RequireKind(item, WireItem.PolicyDriftKind);
            return new PolicyDrift
            {
                PolicyId = item.PolicyId,
                Scope = item.Scope,
                Id = item.Id,
                Name = item.Name,
                Change = item.Change,
                BaselineValue = item.BaselineValue,
                CurrentValue = item.CurrentValue,
            };
        }

        private static void RequireKind(WireItem? item, string kind)
        {
            if (item?.Kind != kind)
            {
                throw UnexpectedKind(item, kind);
            }
        }

        private static MSCommerceException UnexpectedKind(WireItem? item, string expected) =>
            new MSCommerceException(
                ShimErrorCodes.InvalidResponse,
                "InvalidData",
                true,
                "The native library returned an item of kind '" + (item?.Kind ?? "(none)") + "' where '" + expected + "' was expected: the module's files come from different builds.");
    }
}
