using System;
using System.Runtime.InteropServices;

namespace MSCommerce.Interop
{
    /// <summary>The exports of one loaded mscommerce-core library, bound to delegates.</summary>
    internal sealed class NativeApi
    {
        /// <summary>Binds every export through <paramref name="resolve"/> (name to function pointer).</summary>
        internal NativeApi(string libraryPath, Func<string, IntPtr> resolve)
        {
            LibraryPath = libraryPath;
            AbiVersion = Bind<NativeMethods.McAbiVersion>(resolve, "mc_abi_version");
            ClientNew = Bind<NativeMethods.McClientNew>(resolve, "mc_client_new");
            ClientFree = Bind<NativeMethods.McClientFree>(resolve, "mc_client_free");
            Invoke = Bind<NativeMethods.McInvoke>(resolve, "mc_invoke");
            StringFree = Bind<NativeMethods.McStringFree>(resolve, "mc_string_free");
            CancelNew = Bind<NativeMethods.McCancelNew>(resolve, "mc_cancel_new");
            CancelCancel = Bind<NativeMethods.McCancelCancel>(resolve, "mc_cancel_cancel");
            CancelFree = Bind<NativeMethods.McCancelFree>(resolve, "mc_cancel_free");
            SetLogCallback = Bind<NativeMethods.McSetLogCallback>(resolve, "mc_set_log_callback");
            SetProgressCallback = Bind<NativeMethods.McSetProgressCallback>(resolve, "mc_set_progress_callback");
            SetSignCallback = Bind<NativeMethods.McSetSignCallback>(resolve, "mc_set_sign_callback");
        }

        /// <summary>The full path of the loaded file.</summary>
        internal string LibraryPath { get; }

        internal NativeMethods.McAbiVersion AbiVersion { get; }

        internal NativeMethods.McClientNew ClientNew { get; }

        internal NativeMethods.McClientFree ClientFree { get; }

        internal NativeMethods.McInvoke Invoke { get; }

        internal NativeMethods.McStringFree StringFree { get; }

        internal NativeMethods.McCancelNew CancelNew { get; }

        internal NativeMethods.McCancelCancel CancelCancel { get; }

        internal NativeMethods.McCancelFree CancelFree { get; }

        internal NativeMethods.McSetLogCallback SetLogCallback { get; }

        internal NativeMethods.McSetProgressCallback SetProgressCallback { get; }

        internal NativeMethods.McSetSignCallback SetSignCallback { get; }

        /// <summary>Decodes a string the library returned and frees it, even when decoding fails.</summary>
        internal string? TakeString(IntPtr value)
        {
            if (value == IntPtr.Zero)
            {
                return null;
            }

            try
            {
                return Utf8.Read(value);
            }
            finally
            {
                StringFree(value);
            }
        }

        private static T Bind<T>(Func<string, IntPtr> resolve, string name)
            where T : Delegate => Marshal.GetDelegateForFunctionPointer<T>(resolve(name));
    }
}
