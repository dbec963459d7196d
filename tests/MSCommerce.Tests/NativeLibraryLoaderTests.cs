using System.Runtime.InteropServices;
using MSCommerce.Interop;
using Xunit;

namespace MSCommerce.Tests;

public sealed class NativeLibraryLoaderTests
{
    [Theory]
    [InlineData("Windows", Architecture.X64, "runtimes/win-x64/native/mscommerce_core.dll")]
    [InlineData("Windows", Architecture.Arm64, "runtimes/win-arm64/native/mscommerce_core.dll")]
    [InlineData("Linux", Architecture.X64, "runtimes/linux-x64/native/libmscommerce_core.so")]
    [InlineData("Linux", Architecture.Arm64, "runtimes/linux-arm64/native/libmscommerce_core.so")]
    [InlineData("MacOS", Architecture.X64, "runtimes/osx-x64/native/libmscommerce_core.dylib")]
    [InlineData("MacOS", Architecture.Arm64, "runtimes/osx-arm64/native/libmscommerce_core.dylib")]
    public void Each_supported_platform_maps_to_its_runtimes_folder_and_file_name(string os, Architecture architecture, string expected)
    {
        Assert.Equal(expected, NativeLibraryLoader.GetRelativeLibraryPath(Enum.Parse<NativeOS>(os), architecture));
    }

    [Theory]
    [InlineData("Linux", Architecture.X86, "linux-x86", "runtimes/linux-x86/native/libmscommerce_core.so")]
    [InlineData("Windows", Architecture.X86, "win-x86", "runtimes/win-x86/native/mscommerce_core.dll")]
    [InlineData("Windows", Architecture.Arm, "win-arm", "runtimes/win-arm/native/mscommerce_core.dll")]
    [InlineData("MacOS", Architecture.Arm, "osx-arm", "runtimes/osx-arm/native/libmscommerce_core.dylib")]
    [InlineData("Linux", Architecture.S390x, "linux-s390x", "runtimes/linux-s390x/native/libmscommerce_core.so")]
    [InlineData("Unknown", Architecture.X64, "unknown-x64", "runtimes/unknown-x64/native/libmscommerce_core.so")]
    public void An_unsupported_platform_is_refused_with_its_rid_and_the_file_it_would_need(string os, Architecture architecture, string rid, string file)
    {
        var error = Assert.Throws<PlatformNotSupportedException>(() => NativeLibraryLoader.GetRelativeLibraryPath(Enum.Parse<NativeOS>(os), architecture));

        Assert.Contains(rid, error.Message);
        Assert.Contains(file, error.Message);
    }

    [Fact]
    public void The_library_is_looked_for_under_runtimes_next_to_the_module()
    {
        var module = Path.Combine(Path.GetTempPath(), "MSCommerce", "4.0.0");

        var path = NativeLibraryLoader.GetLibraryPath(NativeOS.Linux, Architecture.Arm64, module, overrideDirectory: null);

        Assert.Equal(Path.Combine(module, "runtimes", "linux-arm64", "native", "libmscommerce_core.so"), path);
    }

    [Fact]
    public void The_override_folder_holds_the_library_itself()
    {
        var module = Path.Combine(Path.GetTempPath(), "MSCommerce", "4.0.0");
        var target = Path.Combine(Path.GetTempPath(), "target", "release");

        var path = NativeLibraryLoader.GetLibraryPath(NativeOS.MacOS, Architecture.X64, module, target);

        Assert.Equal(Path.Combine(target, "libmscommerce_core.dylib"), path);
    }

    [Fact]
    public void A_missing_library_is_reported_with_its_full_path()
    {
        var path = Path.Combine(Path.GetTempPath(), "mscommerce-missing-" + Guid.NewGuid().ToString("N"), "runtimes", "linux-x64", "native", "libmscommerce_core.so");

        var error = Assert.Throws<DllNotFoundException>(() => NativeLibraryLoader.Load(path, NativeOS.Linux));

        Assert.Contains(path, error.Message);
    }

    [Fact]
    public void A_file_that_is_not_a_library_is_reported_with_its_path()
    {
        var path = Path.Combine(Path.GetTempPath(), "mscommerce-not-a-library-" + Guid.NewGuid().ToString("N") + NativeLibraryLoader.GetLibraryFileName(NativeLibraryLoader.CurrentOS));
        File.WriteAllText(path, "not a shared library");
        try
        {
            var error = Assert.Throws<DllNotFoundException>(() => NativeLibraryLoader.Load(path, NativeLibraryLoader.CurrentOS));

            Assert.Contains(path, error.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void The_running_platform_is_one_the_module_supports()
    {
        var rid = NativeLibraryLoader.GetRuntimeIdentifier(NativeLibraryLoader.CurrentOS, RuntimeInformation.ProcessArchitecture);

        Assert.Contains(rid, NativeLibraryLoader.SupportedRuntimeIdentifiers);
    }
}
