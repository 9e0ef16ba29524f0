using System.Net;
using System.Runtime.Versioning;

namespace Compose.Integration.Tests;

/// <summary>The plugin context: descriptor, own section, a private data directory and safe paths, over real HTTP.</summary>
public sealed class PluginContextTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "compose-context-" + Guid.NewGuid().ToString("N"));

    [Fact]
    public async Task PluginGetsItsDescriptorSectionAndDataDirectory()
    {
        await using var host = await StartAsync();

        Assert.Equal("files:keep it simple", await host.Client.GetStringAsync("/api/plugins/files/whoami"));
        var context = host.App.Services.GetRequiredService<FilesPlugin>().Context;
        Assert.Same(context, host.App.Services.GetRequiredKeyedService<IServerPluginContext>("files"));
        Assert.Equal(Path.Combine(_root, "files"), context.DataDirectory);
        Assert.True(Directory.Exists(context.DataDirectory));
    }

    [Fact]
    public async Task FilesAreStoredInsideTheDataDirectory()
    {
        await using var host = await StartAsync();

        using var put = await host.Client.PutAsync("/api/plugins/files/files/notes/today.md", new StringContent("# hello"));
        Assert.Equal(HttpStatusCode.NoContent, put.StatusCode);
        Assert.Equal("# hello", File.ReadAllText(Path.Combine(_root, "files", "notes", "today.md")));
        Assert.Equal("# hello", await host.Client.GetStringAsync("/api/plugins/files/files/notes/today.md"));
    }

    [Theory]
    [InlineData("/api/plugins/files/files/..%2F..%2Fsecret.txt")]
    [InlineData("/api/plugins/files/files/%2e%2e/%2e%2e/secret.txt")]
    [InlineData("/api/plugins/files/files/..%5C..%5Csecret.txt")]
    [InlineData("/api/plugins/files/files/%252e%252e%252fsecret.txt")]
    [InlineData("/api/plugins/files/files/%2Fetc%2Fpasswd")]
    public async Task TraversalOverHttpIsRefused(string path)
    {
        File.WriteAllText(Path.Combine(Directory.CreateDirectory(_root).FullName, "secret.txt"), "top secret");
        await using var host = await StartAsync();

        using var response = await host.Client.GetAsync(path);
        var body = await response.Content.ReadAsStringAsync();
        Assert.DoesNotContain("top secret", body, StringComparison.Ordinal);
        Assert.True(response.StatusCode is HttpStatusCode.Forbidden or HttpStatusCode.NotFound or HttpStatusCode.BadRequest, $"{path} answered {response.StatusCode}: {body}");

        using var put = await host.Client.PutAsync(path, new StringContent("overwritten"));
        Assert.NotEqual(HttpStatusCode.NoContent, put.StatusCode);
        Assert.Equal("top secret", File.ReadAllText(Path.Combine(_root, "secret.txt")));
    }

    [UnixFact]
    [UnsupportedOSPlatform("windows")]
    public async Task DataDirectoryAndWhatTheHelpersWriteAreOwnerOnly()
    {
        await using var host = await StartAsync(["vault"]);

        using var put = await host.Client.PutAsync("/api/plugins/vault/files/keys/api.json", new StringContent("{\"key\":\"sk-1\"}"));
        Assert.Equal(HttpStatusCode.NoContent, put.StatusCode);
        Assert.Equal("{\"key\":\"sk-1\"}", await host.Client.GetStringAsync("/api/plugins/vault/files/keys/api.json"));

        var directory = Path.Combine(_root, "vault");
        Assert.Equal(SafePath.OwnerOnlyDirectoryMode, File.GetUnixFileMode(_root));
        Assert.Equal(SafePath.OwnerOnlyDirectoryMode, File.GetUnixFileMode(directory));
        Assert.Equal(SafePath.OwnerOnlyDirectoryMode, File.GetUnixFileMode(Path.Combine(directory, "keys")));
        Assert.Equal(SafePath.OwnerOnlyFileMode, File.GetUnixFileMode(Path.Combine(directory, "keys", "api.json")));
        Assert.Equal(["api.json"], Directory.GetFiles(Path.Combine(directory, "keys")).Select(Path.GetFileName));
    }

    [UnixFact]
    [UnsupportedOSPlatform("windows")]
    public async Task AnExistingDataDirectoryOthersCouldEnterIsNarrowed()
    {
        var directory = Directory.CreateDirectory(Path.Combine(_root, "vault")).FullName;
        File.SetUnixFileMode(directory, SafePath.OwnerOnlyDirectoryMode | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        await using var host = await StartAsync(["vault"]);

        Assert.Equal(directory, host.App.Services.GetRequiredService<VaultPlugin>().Context.DataDirectory);
        Assert.Equal(SafePath.OwnerOnlyDirectoryMode, File.GetUnixFileMode(directory));
    }

    [UnixFact]
    public async Task TheHelpersRefuseLinksAndHardLinksOverHttp()
    {
        var outside = Directory.CreateDirectory(Path.Combine(_root, "elsewhere")).FullName;
        File.WriteAllText(Path.Combine(outside, "secret.txt"), "top secret");
        var directory = Directory.CreateDirectory(Path.Combine(_root, "vault")).FullName;
        Directory.CreateSymbolicLink(Path.Combine(directory, "out"), outside);
        using (var ln = System.Diagnostics.Process.Start("ln", [Path.Combine(outside, "secret.txt"), Path.Combine(directory, "hard.txt")]))
        {
            Assert.True(ln.WaitForExit(TimeSpan.FromSeconds(10)) && ln.ExitCode == 0);
        }

        await using var host = await StartAsync(["vault"]);
        foreach (var path in new[] { "out/secret.txt", "hard.txt", "..%2Felsewhere%2Fsecret.txt" })
        {
            using var get = await host.Client.GetAsync($"/api/plugins/vault/files/{path}");
            Assert.Equal(HttpStatusCode.Forbidden, get.StatusCode);
            Assert.DoesNotContain("top secret", await get.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        using var put = await host.Client.PutAsync("/api/plugins/vault/files/out/secret.txt", new StringContent("overwritten"));
        Assert.Equal(HttpStatusCode.Forbidden, put.StatusCode);
        Assert.Equal("top secret", File.ReadAllText(Path.Combine(outside, "secret.txt")));
    }

    public void Dispose()
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }

    private Task<PluginHost> StartAsync(string[]? plugins = null) => PluginHost.StartAsync(plugins ?? ["files"], new Dictionary<string, string?>
    {
        ["Compose:DataRoot"] = _root,
        ["Compose:Plugins:files:Motto"] = "keep it simple",
    });
}
