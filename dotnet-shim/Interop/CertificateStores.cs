using System;
using System.Collections.Generic;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace MSCommerce.Interop
{
    /// <summary>
    /// Finds a certificate for <c>-CertificateThumbprint</c> and <c>-CertificateName</c> where
    /// Connect-MgGraph looks: the current user's personal store, then the machine's (the .NET
    /// <see cref="X509Store"/>, which on Linux and macOS is the .NET store of the user).
    /// </summary>
    internal static class CertificateStores
    {
        /// <summary>The stores searched, in order, as a message names them.</summary>
        internal const string Searched = @"Cert:\CurrentUser\My and Cert:\LocalMachine\My";

        /// <summary>The certificate with this thumbprint (spaces and case ignored), or null.</summary>
        internal static X509Certificate2? FindByThumbprint(string thumbprint)
        {
            var wanted = thumbprint.Replace(" ", string.Empty).Replace(":", string.Empty);
            return Best(Find(certificate => string.Equals(certificate.Thumbprint, wanted, StringComparison.OrdinalIgnoreCase)));
        }

        /// <summary>
        /// The certificate whose subject is <paramref name="name"/> (a distinguished name such as
        /// <c>CN=automation</c>, or the common name alone), or null; of several, the one with a
        /// private key that is valid now and lasts longest.
        /// </summary>
        internal static X509Certificate2? FindBySubject(string name)
        {
            var wanted = name.Trim();
            return Best(Find(certificate =>
                string.Equals(certificate.Subject, wanted, StringComparison.OrdinalIgnoreCase)
                || string.Equals(certificate.GetNameInfo(X509NameType.SimpleName, false), wanted, StringComparison.OrdinalIgnoreCase)));
        }

        private static X509Certificate2? Best(List<X509Certificate2> found)
        {
            X509Certificate2? best = null;
            var now = DateTime.Now;
            foreach (var certificate in found)
            {
                var usable = certificate.HasPrivateKey && certificate.NotBefore <= now && now <= certificate.NotAfter;
                var bestUsable = best != null && best.HasPrivateKey && best.NotBefore <= now && now <= best.NotAfter;
                if (best == null || (usable && !bestUsable) || (usable == bestUsable && certificate.NotAfter > best.NotAfter))
                {
                    best = certificate;
                }
            }

            return best;
        }

        private static List<X509Certificate2> Find(Func<X509Certificate2, bool> match)
        {
            var found = new List<X509Certificate2>();
            foreach (var location in new[] { StoreLocation.CurrentUser, StoreLocation.LocalMachine })
            {
                try
                {
                    using (var store = new X509Store(StoreName.My, location))
                    {
                        store.Open(OpenFlags.ReadOnly | OpenFlags.OpenExistingOnly);
                        foreach (var certificate in store.Certificates)
                        {
                            if (match(certificate))
                            {
                                found.Add(certificate);
                            }
                        }
                    }
                }
                catch (CryptographicException)
                {
                    // A store that does not exist (LocalMachine\My on Linux and macOS, or a user
                    // who never added a certificate) holds nothing.
                }
            }

            return found;
        }
    }
}
