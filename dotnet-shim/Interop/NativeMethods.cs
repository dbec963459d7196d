// Every native entry point the module uses, in one place: the platform loaders' imports and the
// delegate types of the mscommerce-core exports (docs/abi.md). Nothing outside Interop/ sees them.

using System;
using System.Runtime.InteropServices;

namespace MSCommerce.Interop
{
    /// <summary>The P/Invoke declarations and the delegate types of the native exports.</summary>
    internal static class NativeMethods
    {
        /// <summary>The ABI version this shim speaks (<c>mc_abi_version</c>).</summary>
        internal const uint AbiVersion = 1;

        /// <summary>The status codes every fallible export returns.</summary>
        internal static class Status
        {
            internal const int Ok = 0;
            internal const int Failed = 1;
            internal const int InvalidArgument = 2;
            internal const int InvalidHandle = 3;
            internal const int Cancelled = 4;
            internal const int Internal = 5;
        }

        // ---- mscommerce-core exports (resolved at run time, see NativeLibraryLoader) ----
        // Strings in are IntPtr to NUL-terminated UTF-8 buffers the shim allocates; strings out are
        // IntPtr the shim decodes and hands back to mc_string_free.

        [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
        internal delegate uint McAbiVersion();

        [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
        internal delegate int McClientNew(IntPtr configJson, out ulong client, out IntPtr outJson);

        [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
        internal delegate int McClientFree(ulong client);

        [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
        internal delegate int McInvoke(ulong client, IntPtr requestJson, ulong cancel, out IntPtr outJson);

        [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
        internal delegate void McStringFree(IntPtr value);

        [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
        internal delegate int McCancelNew(out ulong token);

        [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
        internal delegate int McCancelCancel(ulong token);

        [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
        internal delegate int McCancelFree(ulong token);

        /// <summary>Takes a function pointer made from <see cref="McLogCallback"/>, or zero to unregister.</summary>
        [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
        internal delegate int McSetLogCallback(IntPtr callback);

        /// <summary>Takes a function pointer made from <see cref="McProgressCallback"/>, or zero to unregister.</summary>
        [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
        internal delegate int McSetProgressCallback(IntPtr callback);

        /// <summary>Takes a function pointer made from <see cref="McSignCallback"/>, or zero to unregister.</summary>
        [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
        internal delegate int McSetSignCallback(IntPtr callback);

        /// <summary>
        /// Signs <paramref name="dataLength"/> bytes at <paramref name="data"/> with the key
        /// registered under <paramref name="keyId"/>; called from a Rust worker thread, every
        /// pointer valid only during the call. Returns an <c>MC_SIGN_*</c> code.
        /// </summary>
        [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
        internal delegate int McSignCallback(ulong keyId, IntPtr algorithm, IntPtr data, UIntPtr dataLength, IntPtr signature, UIntPtr signatureCapacity, out UIntPtr signatureLength);

        /// <summary>Called from Rust worker threads; <paramref name="message"/> is valid only during the call.</summary>
        [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
        internal delegate void McLogCallback(ulong operationId, int level, IntPtr message);

        /// <summary>Called from Rust worker threads; <paramref name="progressJson"/> is valid only during the call.</summary>
        [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
        internal delegate void McProgressCallback(ulong operationId, IntPtr progressJson);

        // ---- Windows: kernel32 ----

        internal static class Kernel32
        {
            /// <summary>Resolve the DLL's own dependencies from its folder, not the process's.</summary>
            internal const uint LoadWithAlteredSearchPath = 0x00000008;

            [DllImport("kernel32.dll", EntryPoint = "LoadLibraryExW", CharSet = CharSet.Unicode, SetLastError = true, ExactSpelling = true)]
            internal static extern IntPtr LoadLibraryEx(string fileName, IntPtr reserved, uint flags);

            // Export names are ANSI; the marshaller's LPStr is exact for the ASCII names used here.
            [DllImport("kernel32.dll", CharSet = CharSet.Ansi, SetLastError = true, ExactSpelling = true, BestFitMapping = false, ThrowOnUnmappableChar = true)]
            internal static extern IntPtr GetProcAddress(IntPtr module, string procName);
        }

        // ---- Unix: dlopen/dlsym/dlerror, from the library each platform keeps them in ----
        // File and symbol names are passed as NUL-terminated UTF-8 byte arrays (pinned by the marshaller).

        /// <summary><c>RTLD_NOW</c>: the same value on Linux and macOS.</summary>
        internal const int RtldNow = 2;

        /// <summary>glibc before 2.34 keeps the dl functions in libdl; the stub still exists after.</summary>
        internal static class LibDl
        {
            private const string Library = "libdl.so.2";

            [DllImport(Library)]
            internal static extern IntPtr dlopen(byte[] fileName, int flags);

            [DllImport(Library)]
            internal static extern IntPtr dlsym(IntPtr handle, byte[] symbol);

            [DllImport(Library)]
            internal static extern IntPtr dlerror();
        }

        /// <summary>glibc 2.34 and later keep the dl functions in libc itself.</summary>
        internal static class LibC
        {
            private const string Library = "libc.so.6";

            [DllImport(Library)]
            internal static extern IntPtr dlopen(byte[] fileName, int flags);

            [DllImport(Library)]
            internal static extern IntPtr dlsym(IntPtr handle, byte[] symbol);

            [DllImport(Library)]
            internal static extern IntPtr dlerror();
        }

        /// <summary>macOS keeps the dl functions in libSystem.</summary>
        internal static class LibSystem
        {
            private const string Library = "libSystem.dylib";

            [DllImport(Library)]
            internal static extern IntPtr dlopen(byte[] fileName, int flags);

            [DllImport(Library)]
            internal static extern IntPtr dlsym(IntPtr handle, byte[] symbol);

            [DllImport(Library)]
            internal static extern IntPtr dlerror();
        }
    }
}
