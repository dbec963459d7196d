using System;
using System.ComponentModel;
using System.IO;
using System.Runtime.InteropServices;
using System.Threading;

namespace MSCommerce.Interop
{
    /// <summary>The operating systems the loader tells apart.</summary>
    internal enum NativeOS
    {
        /// <summary>Anything the module ships no library for.</summary>
        Unknown,

        /// <summary>Windows (Windows PowerShell 5.1 and PowerShell 7).</summary>
        Windows,

        /// <summary>Linux with glibc.</summary>
        Linux,

        /// <summary>macOS.</summary>
        MacOS,
    }

    /// <summary>
    /// Finds and loads the native mscommerce-core library once per process: the file under
    /// <c>runtimes/&lt;rid&gt;/native/</c> next to MSCommerce.dll for the running OS and process
    /// architecture, or the one in <c>$MSCOMMERCE_NATIVE_DIR</c> when that is set. Works without
    /// the <c>NativeLibrary</c> class, so also on .NET Framework 4.7.2 (Windows PowerShell 5.1).
    /// </summary>
    internal static class NativeLibraryLoader
    {
        /// <summary>A folder that holds the native library itself (no runtimes/ tree); tests and development use it.</summary>
        internal const string DirectoryOverrideVariable = "MSCOMMERCE_NATIVE_DIR";

        /// <summary>The runtime identifiers the module ships a native library for.</summary>
        internal static readonly string[] SupportedRuntimeIdentifiers =
        {
            "win-x64", "win-arm64", "linux-x64", "linux-arm64", "osx-x64", "osx-arm64",
        };

        private static readonly object Gate = new object();
        private static NativeApi? loaded;

        /// <summary>The loaded library; loads it on first use. A failed load is retried on the next use.</summary>
        internal static NativeApi Api
        {
            get
            {
                var api = Volatile.Read(ref loaded);
                if (api != null)
                {
                    return api;
                }

                lock (Gate)
                {
                    if (loaded == null)
                    {
                        var path = GetLibraryPath(
                            CurrentOS,
                            RuntimeInformation.ProcessArchitecture,
                            ModuleDirectory,
                            Environment.GetEnvironmentVariable(DirectoryOverrideVariable));
                        Volatile.Write(ref loaded, Load(path, CurrentOS));
                    }

                    return loaded!;
                }
            }
        }

        /// <summary>The operating system this process runs on.</summary>
        internal static NativeOS CurrentOS
        {
            get
            {
                if (RuntimeInformation.IsOSPlatform(OSPlatform.Windows))
                {
                    return NativeOS.Windows;
                }

                if (RuntimeInformation.IsOSPlatform(OSPlatform.Linux))
                {
                    return NativeOS.Linux;
                }

                if (RuntimeInformation.IsOSPlatform(OSPlatform.OSX))
                {
                    return NativeOS.MacOS;
                }

                return NativeOS.Unknown;
            }
        }

        /// <summary>The folder MSCommerce.dll was loaded from (the module's folder).</summary>
        internal static string ModuleDirectory
        {
            get
            {
                var location = typeof(NativeLibraryLoader).Assembly.Location;
                var directory = string.IsNullOrEmpty(location) ? null : Path.GetDirectoryName(location);
                return string.IsNullOrEmpty(directory) ? AppDomain.CurrentDomain.BaseDirectory : directory!;
            }
        }

        /// <summary>The file name of the native library on <paramref name="os"/>.</summary>
        internal static string GetLibraryFileName(NativeOS os) => os switch
        {
            NativeOS.Windows => "mscommerce_core.dll",
            NativeOS.MacOS => "libmscommerce_core.dylib",
            _ => "libmscommerce_core.so",
        };

        /// <summary>The runtime identifier for an OS and architecture, whether or not the module supports it.</summary>
        internal static string GetRuntimeIdentifier(NativeOS os, Architecture architecture)
        {
            var osPart = os switch
            {
                NativeOS.Windows => "win",
                NativeOS.Linux => "linux",
                NativeOS.MacOS => "osx",
                _ => "unknown",
            };
            var architecturePart = architecture switch
            {
                Architecture.X64 => "x64",
                Architecture.Arm64 => "arm64",
                Architecture.X86 => "x86",
                Architecture.Arm => "arm",
                _ => architecture.ToString().ToLowerInvariant(),
            };
            return osPart + "-" + architecturePart;
        }

        /// <summary>
        /// <c>runtimes/&lt;rid&gt;/native/&lt;file&gt;</c> for a supported platform; otherwise a
        /// <see cref="PlatformNotSupportedException"/> that names the RID and the file it would need.
        /// </summary>
        internal static string GetRelativeLibraryPath(NativeOS os, Architecture architecture)
        {
            var rid = GetRuntimeIdentifier(os, architecture);
            var relative = "runtimes/" + rid + "/native/" + GetLibraryFileName(os);
            if (Array.IndexOf(SupportedRuntimeIdentifiers, rid) < 0)
            {
                throw new PlatformNotSupportedException(
                    $"The MSCommerce module has no native library for this platform ({rid}, {RuntimeInformation.OSDescription.Trim()}): " +
                    $"it would need '{relative}'. Supported platforms: {string.Join(", ", SupportedRuntimeIdentifiers)}.");
            }

            return relative;
        }

        /// <summary>
        /// The full path of the library to load: <paramref name="overrideDirectory"/>/&lt;file&gt; when an
        /// override is given, else <paramref name="moduleDirectory"/>/runtimes/&lt;rid&gt;/native/&lt;file&gt;.
        /// </summary>
        internal static string GetLibraryPath(NativeOS os, Architecture architecture, string moduleDirectory, string? overrideDirectory)
        {
            var relative = GetRelativeLibraryPath(os, architecture);
            var path = string.IsNullOrEmpty(overrideDirectory)
                ? Path.Combine(moduleDirectory, relative.Replace('/', Path.DirectorySeparatorChar))
                : Path.Combine(overrideDirectory!, GetLibraryFileName(os));
            return Path.GetFullPath(path);
        }

        /// <summary>Loads the library at <paramref name="path"/>, binds its exports and checks its ABI version.</summary>
        internal static NativeApi Load(string path, NativeOS os)
        {
            if (!File.Exists(path))
            {
                throw new DllNotFoundException(
                    $"The native library of the MSCommerce module was not found: '{path}' does not exist " +
                    $"(platform {GetRuntimeIdentifier(os, RuntimeInformation.ProcessArchitecture)}). Reinstall the module, " +
                    $"or set {DirectoryOverrideVariable} to the folder that holds {GetLibraryFileName(os)}.");
            }

            var linker = DynamicLinker.For(os);
            var handle = linker.Open(path);
            var api = new NativeApi(path, name =>
            {
                var symbol = linker.Symbol(handle, name);
                if (symbol == IntPtr.Zero)
                {
                    throw new EntryPointNotFoundException($"The native library '{path}' has no export '{name}': it is not a build of mscommerce-core.");
                }

                return symbol;
            });

            var version = api.AbiVersion();
            if (version != NativeMethods.AbiVersion)
            {
                throw new InvalidOperationException(
                    $"The native library '{path}' speaks ABI version {version}, but this MSCommerce.dll needs version {NativeMethods.AbiVersion}: " +
                    "the module's files come from different builds. Reinstall the module.");
            }

            return api;
        }

        /// <summary>One platform's way of opening a library and finding its exports.</summary>
        private abstract class DynamicLinker
        {
            internal static DynamicLinker For(NativeOS os) => os switch
            {
                NativeOS.Windows => new WindowsLinker(),
                NativeOS.MacOS => new LibSystemLinker(),
                _ => LibDlLinker.IsAvailable() ? new LibDlLinker() : new LibCLinker(),
            };

            internal abstract IntPtr Open(string path);

            internal abstract IntPtr Symbol(IntPtr handle, string name);

            protected static DllNotFoundException OpenFailed(string path, string? reason) =>
                new DllNotFoundException($"The native library '{path}' could not be loaded: {reason ?? "unknown error"}.");
        }

        private sealed class WindowsLinker : DynamicLinker
        {
            internal override IntPtr Open(string path)
            {
                var handle = NativeMethods.Kernel32.LoadLibraryEx(path, IntPtr.Zero, NativeMethods.Kernel32.LoadWithAlteredSearchPath);
                if (handle == IntPtr.Zero)
                {
                    throw OpenFailed(path, new Win32Exception(Marshal.GetLastWin32Error()).Message);
                }

                return handle;
            }

            internal override IntPtr Symbol(IntPtr handle, string name) => NativeMethods.Kernel32.GetProcAddress(handle, name);
        }

        private sealed class LibDlLinker : DynamicLinker
        {
            internal static bool IsAvailable()
            {
                try
                {
                    NativeMethods.LibDl.dlerror();
                    return true;
                }
                catch (DllNotFoundException)
                {
                    return false;
                }
                catch (EntryPointNotFoundException)
                {
                    return false;
                }
            }

            internal override IntPtr Open(string path)
            {
                var handle = NativeMethods.LibDl.dlopen(Utf8.ToNullTerminated(path), NativeMethods.RtldNow);
                return handle != IntPtr.Zero ? handle : throw OpenFailed(path, Utf8.Read(NativeMethods.LibDl.dlerror()));
            }

            internal override IntPtr Symbol(IntPtr handle, string name) => NativeMethods.LibDl.dlsym(handle, Utf8.ToNullTerminated(name));
        }

        private sealed class LibCLinker : DynamicLinker
        {
            internal override IntPtr Open(string path)
            {
                var handle = NativeMethods.LibC.dlopen(Utf8.ToNullTerminated(path), NativeMethods.RtldNow);
                return handle != IntPtr.Zero ? handle : throw OpenFailed(path, Utf8.Read(NativeMethods.LibC.dlerror()));
            }

            internal override IntPtr Symbol(IntPtr handle, string name) => NativeMethods.LibC.dlsym(handle, Utf8.ToNullTerminated(name));
        }

        private sealed class LibSystemLinker : DynamicLinker
        {
            internal override IntPtr Open(string path)
            {
                var handle = NativeMethods.LibSystem.dlopen(Utf8.ToNullTerminated(path), NativeMethods.RtldNow);
                return handle != IntPtr.Zero ? handle : throw OpenFailed(path, Utf8.Read(NativeMethods.LibSystem.dlerror()));
            }

            internal override IntPtr Symbol(IntPtr handle, string name) => NativeMethods.LibSystem.dlsym(handle, Utf8.ToNullTerminated(name));
        }
    }
}
