using System;
using System.Management.Automation;
using MSCommerce.Interop;

namespace MSCommerce.Commands
{
    /// <summary>
    /// Accepts for -Enabled only what $true and $false become as strings ("True", "false", ...),
    /// rejecting anything else at binding with the original module's message, so no call is made.
    /// </summary>
    [AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
    public sealed class ValidateEnabledAttribute : ValidateArgumentsAttribute
    {
        /// <summary>The original module's message, word for word.</summary>
        public const string Message = CoreDefaults.EnabledMessage;

        /// <inheritdoc />
        protected override void Validate(object arguments, EngineIntrinsics engineIntrinsics)
        {
            var text = (arguments is PSObject wrapped ? wrapped.BaseObject : arguments)?.ToString();
            if (!string.Equals(text, "True", StringComparison.OrdinalIgnoreCase) && !string.Equals(text, "False", StringComparison.OrdinalIgnoreCase))
            {
                throw new ValidationMetadataException(Message);
            }
        }
    }
}
