using System;
using System.IO;
using System.Reflection;
using System.Security.Cryptography.X509Certificates;

namespace MSCommerce.Interop
{
    /// <summary>
    /// Loads the certificate of AZURE_CLIENT_CERTIFICATE_PATH as Azure.Identity reads it: a PFX
    /// (PKCS#12, with AZURE_CLIENT_CERTIFICATE_PASSWORD), or a PEM file holding the certificate
    /// and its private key.
    /// </summary>
    internal static class CertificateFiles
    {
        /// <summary>The certificate with its private key; throws what .NET throws for a file it cannot read.</summary>
        internal static X509Certificate2 Load(string path, string? password)
        {
            var bytes = File.ReadAllBytes(path);
            if (!IsPem(bytes))
            {
                return new X509Certificate2(bytes, password);
            }

            // X509Certificate2.CreateFromPemFile exists on .NET 5 and later (PowerShell 7), not on
            // .NET Framework: the module is built for netstandard2.0, so it is found at run time.
            var fromPem = typeof(X509Certificate2).GetMethod("CreateFromPemFile", BindingFlags.Public | BindingFlags.Static, null, new[] { typeof(string), typeof(string) }, null);
            if (fromPem == null)
            {
                throw new NotSupportedException("Windows PowerShell reads a certificate and key from a PFX file only; convert the PEM file to PFX, or use PowerShell 7.");
            }

            try
            {
                return (X509Certificate2)fromPem.Invoke(null, new object?[] { path, null })!;
            }
            catch (TargetInvocationException e) when (e.InnerException != null)
            {
                throw e.InnerException;
            }
        }

        private static bool IsPem(byte[] bytes)
        {
            var head = System.Text.Encoding.ASCII.GetString(bytes, 0, Math.Min(bytes.Length, 4096));
            return head.Contains("-----BEGIN ");
        }
    }
}
