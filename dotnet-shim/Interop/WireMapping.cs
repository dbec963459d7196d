using System.Collections.Generic;
using System.Runtime.Serialization;
using System.Xml.Linq;

namespace MSCommerce.Interop
{
    /// <summary>
    /// Reads the library's output items into the module's output objects: each item's <c>kind</c>
    /// names its model class, whose members are generated from the Rust type (Contracts.g.cs), so
    /// nothing is copied field by field.
    /// </summary>
    internal static class WireMapping
    {
        internal static IReadOnlyList<Policy> ToPolicies(XElement items)
        {
            var policies = new List<Policy>();
            foreach (var item in Elements(items))
            {
                policies.Add(ToPolicy(item));
            }

            return policies;
        }

        internal static Policy ToPolicy(XElement item) => Read<Policy>(item, OutputItemKinds.Policy);

        /// <summary>Products become <see cref="ProductPolicy"/>, other scopes <see cref="ScopePolicy"/>.</summary>
        internal static IReadOnlyList<object> ToProductPolicies(XElement? items)
        {
            var results = new List<object>();
            foreach (var item in Elements(items))
            {
                results.Add(ToProductOrScopePolicy(item));
            }

            return results;
        }

        internal static object ToProductOrScopePolicy(XElement? item)
        {
            switch (KindOf(item))
            {
                case OutputItemKinds.ProductPolicy:
                    return Read<ProductPolicy>(item!, OutputItemKinds.ProductPolicy);
                case OutputItemKinds.ScopePolicy:
                    return Read<ScopePolicy>(item!, OutputItemKinds.ScopePolicy);
                default:
                    throw UnexpectedKind(KindOf(item), OutputItemKinds.ProductPolicy + "' or '" + OutputItemKinds.ScopePolicy);
            }
        }

        internal static IReadOnlyList<PolicyDrift> ToDrift(XElement items)
        {
            var drift = new List<PolicyDrift>();
            foreach (var item in Elements(items))
            {
                drift.Add(Read<PolicyDrift>(item, OutputItemKinds.PolicyDrift));
            }

            return drift;
        }

        /// <summary>Output items of any kind, each as its model class (a request run in several tenants).</summary>
        internal static IReadOnlyList<object> ToOutputItems(XElement? items)
        {
            var results = new List<object>();
            foreach (var item in Elements(items))
            {
                switch (KindOf(item))
                {
                    case OutputItemKinds.Policy:
                        results.Add(ToPolicy(item));
                        break;
                    case OutputItemKinds.PolicyDrift:
                        results.Add(Read<PolicyDrift>(item, OutputItemKinds.PolicyDrift));
                        break;
                    default:
                        results.Add(ToProductOrScopePolicy(item));
                        break;
                }
            }

            return results;
        }

        /// <summary>The elements of a JSON array; anything else is a reply of another build.</summary>
        internal static IEnumerable<XElement> Elements(XElement? array)
        {
            if (array == null || (string?)array.Attribute("type") == "null")
            {
                return new XElement[0];
            }

            if ((string?)array.Attribute("type") != "array")
            {
                throw InvalidReply("Expected a JSON array of output items.");
            }

            return array.Elements();
        }

        private static string? KindOf(XElement? item) => (string?)item?.Element("kind");

        private static T Read<T>(XElement item, string kind)
        {
            var actual = KindOf(item);
            if (actual != kind)
            {
                throw UnexpectedKind(actual, kind);
            }

            try
            {
                return Json.Deserialize<T>(item);
            }
            catch (SerializationException e)
            {
                throw InvalidReply("The native library returned a reply the module cannot read: " + e.Message);
            }
        }

        private static MSCommerceException InvalidReply(string message) =>
            new MSCommerceException(ShimErrorCodes.InvalidResponse, "InvalidData", true, message);

        private static MSCommerceException UnexpectedKind(string? kind, string expected) =>
            InvalidReply("The native library returned an item of kind '" + (kind ?? "(none)") + "' where '" + expected + "' was expected: the module's files come from different builds.");
    }
}
