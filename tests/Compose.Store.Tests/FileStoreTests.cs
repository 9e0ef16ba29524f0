using Compose.Store;

namespace Compose.Store.Tests;

public sealed class FileStoreTests : StoreContractTests, IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("compose-store-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    protected override IPluginStore CreateStore(string pluginId)
    {
        // One store instance per plugin, as the plugin context keeps it (writes are serialized per instance).
        lock (_stores)
        {
            if (!_stores.TryGetValue(pluginId, out var store))
            {
                var directory = Path.Combine(_root, pluginId);
                Directory.CreateDirectory(directory);
                _stores[pluginId] = store = new FilePluginStore(pluginId, directory);
            }

            return store;
        }
    }

    private readonly Dictionary<string, IPluginStore> _stores = [];

    [Fact]
    public async Task Entry_files_are_owner_only_and_named_by_hash()
    {
        var store = CreateStore(NewPluginId());
        await store.SetAsync("../escape", new byte[] { 1 });
        var files = Directory.GetFiles(_root, "*", SearchOption.AllDirectories);
        var file = Assert.Single(files);
        Assert.StartsWith(Path.Combine(_root, store.PluginId, ".store") + "/", file);
        Assert.Matches("^[0-9a-f]{64}\\.entry$", Path.GetFileName(file));
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
        }
    }

    [Fact]
    public async Task Entries_survive_a_new_store_instance()
    {
        var id = NewPluginId();
        var directory = Path.Combine(_root, id);
        Directory.CreateDirectory(directory);
        var v = await new FilePluginStore(id, directory).SetAsync("k", new byte[] { 5 });
        var again = new FilePluginStore(id, directory);
        var entry = await again.GetAsync("k");
        Assert.Equal(v, entry!.Version);
        Assert.True(await again.SetAsync("k", new byte[] { 6 }) > v);
    }

    [Fact]
    public async Task A_damaged_entry_file_is_a_clear_IOException()
    {
        var store = CreateStore(NewPluginId());
        await store.SetAsync("k", new byte[] { 1 });
        var file = Directory.GetFiles(Path.Combine(_root, store.PluginId, ".store")).Single();
        await File.WriteAllBytesAsync(file, new byte[] { 1, 2, 3 });
        var ex = await Assert.ThrowsAsync<IOException>(async () => await store.GetAsync("k"));
        Assert.Contains("damaged", ex.Message);
    }

    [Fact]
    public void A_relative_data_directory_is_refused()
        => Assert.Throws<ArgumentException>(() => new FilePluginStore("p", "relative/dir"));
}
