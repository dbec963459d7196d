using System;
using System.Collections;
using System.Collections.Generic;
using System.Management.Automation;
using System.Management.Automation.Language;
using MSCommerce.Commands;

namespace MSCommerce.Completion
{
    /// <summary>
    /// Completes a parameter from the connected tenant through the core, which keeps each list
    /// for a minute and waits at most a few seconds. Without a connection (or with a slow
    /// service) nothing is offered; completion never throws.
    /// </summary>
    public abstract class TenantCompleter : IArgumentCompleter
    {
        private readonly string kind;

        /// <summary>Creates a completer of <paramref name="kind"/> (<c>policyId</c>, <c>productId</c>, <c>productName</c>, <c>offerType</c>).</summary>
        protected TenantCompleter(string kind) => this.kind = kind;

        /// <inheritdoc />
        public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters)
        {
            var word = wordToComplete ?? string.Empty;
            var quote = word.Length > 0 && (word[0] == '\'' || word[0] == '"') ? word[0] : '\'';
            IReadOnlyList<CompletionCandidate> candidates;
            try
            {
                candidates = MSCommerceSession.GetClient().Complete(kind, Bound(fakeBoundParameters, "PolicyId"), word.Trim('\'', '"'), Bound(fakeBoundParameters, "Token"));
            }
            catch (MSCommerceException)
            {
                yield break;
            }

            foreach (var candidate in candidates)
            {
                yield return new CompletionResult(Quoted(candidate.Value, quote), candidate.Value, CompletionResultType.ParameterValue, candidate.Tooltip);
            }
        }

        /// <summary>A parameter already on the command line, when it is a plain string.</summary>
        private static string? Bound(IDictionary? fakeBoundParameters, string name)
        {
            if (fakeBoundParameters == null || !fakeBoundParameters.Contains(name))
            {
                return null;
            }

            var value = fakeBoundParameters[name];
            return (value is PSObject wrapped ? wrapped.BaseObject : value) as string;
        }

        /// <summary>The value as PowerShell must see it: quoted when it holds anything but letters, digits, '-', '_' and '.'.</summary>
        internal static string Quoted(string value, char quote)
        {
            foreach (var c in value)
            {
                if (!(char.IsLetterOrDigit(c) || c == '-' || c == '_' || c == '.'))
                {
                    return quote == '"'
                        ? "\"" + value.Replace("`", "``").Replace("\"", "`\"").Replace("$", "`$") + "\""
                        : "'" + value.Replace("'", "''") + "'";
                }
            }

            return value;
        }
    }

    /// <summary>Completes -PolicyId with the tenant's policies (AllowSelfServicePurchase when nothing can be listed).</summary>
    public sealed class PolicyIdCompleter : TenantCompleter
    {
        /// <summary>Creates the completer.</summary>
        public PolicyIdCompleter()
            : base("policyId")
        {
        }
    }

    /// <summary>Completes -ProductId with the tenant's product ids; the tooltip names the product, and typing part of a name finds its id.</summary>
    public sealed class ProductIdCompleter : TenantCompleter
    {
        /// <summary>Creates the completer.</summary>
        public ProductIdCompleter()
            : base("productId")
        {
        }
    }

    /// <summary>Completes -ProductName with the tenant's product names.</summary>
    public sealed class ProductNameCompleter : TenantCompleter
    {
        /// <summary>Creates the completer.</summary>
        public ProductNameCompleter()
            : base("productName")
        {
        }
    }

    /// <summary>Completes -OfferType with the tenant's offer types.</summary>
    public sealed class OfferTypeCompleter : TenantCompleter
    {
        /// <summary>Creates the completer.</summary>
        public OfferTypeCompleter()
            : base("offerType")
        {
        }
    }
}
