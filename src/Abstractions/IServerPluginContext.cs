using Compose.Store;
using Microsoft.Extensions.Configuration;

namespace Compose;

/// <summary>
/// What a plugin knows about itself at run time: its descriptor, its configuration section and a private data
/// directory. Inject it into the plugin's constructor (the generated code supplies the plugin's own context), or
/// into the plugin's services as <c>[FromKeyedServices("{id}")] IServerPluginContext</c>.
/// </summary>
/// <remarks>
/// The data directory answers the seeds' per-plugin files (Luker's <c>config.json</c> next to the plugin, kept out
/// of source control); <see cref="ResolvePath"/> answers their path-traversal advice. The file helpers
/// (<see cref="OpenRead"/>, <see cref="OpenWrite"/>, <see cref="WriteAllBytesAtomicAsync"/>) check the file they
/// opened as well as the path, and keep what they create owner-only on Unix (files <c>0600</c>, folders
/// <c>0700</c>); they have default implementations over <see cref="SafePath"/>, so an implementation of this
/// interface (a test double) only needs the four properties and <see cref="ResolvePath"/>.
/// </remarks>
public interface IServerPluginContext
{
    /// <summary>Gets the plugin's descriptor.</summary>
    ServerPluginDescriptor Descriptor { get; }

    /// <summary>Gets the plugin's own configuration section, <c>Compose:Plugins:{id}</c>.</summary>
    IConfiguration Configuration { get; }

    /// <summary>
    /// Gets the plugin's private data directory, <c>{DataRoot}/{id}</c> (<c>Compose:DataRoot</c>, default
    /// <c>App_Data/plugins</c> under the host's content root), created on first use. On Unix it is owner-only
    /// (<c>0700</c>): created so, with any missing parent, and an existing one that others could enter is narrowed to it.
    /// </summary>
    /// <exception cref="IOException">The directory cannot be created.</exception>
    string DataDirectory { get; }

    /// <summary>
    /// Resolves a relative path, possibly supplied by a user, under <see cref="DataDirectory"/>, rejecting every
    /// escape (see <see cref="SafePath.Resolve"/>).
    /// </summary>
    /// <param name="relativePath">A relative path such as <c>notes/today.md</c>.</param>
    /// <returns>The full path, inside the data directory.</returns>
    /// <exception cref="UnauthorizedAccessException">The path would escape the data directory.</exception>
    string ResolvePath(string relativePath);

    /// <summary>
    /// Opens an existing file under <see cref="DataDirectory"/> for reading, refusing it when the file the operating
    /// system opened lies outside the directory (a link swapped in after the check) or has more than one hard link
    /// (see <see cref="SafePath.OpenRead"/>).
    /// </summary>
    /// <param name="relativePath">A relative path such as <c>notes/today.md</c>, possibly supplied by a user.</param>
    /// <param name="allowHardLinks">Whether a file with more than one hard link may be opened. Default <see langword="false"/>.</param>
    /// <returns>A read-only stream at the start of the file; dispose it.</returns>
    /// <exception cref="UnauthorizedAccessException">The path or the opened file is refused.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="DirectoryNotFoundException">A folder on the path does not exist.</exception>
    /// <exception cref="IOException">The file cannot be opened.</exception>
    FileStream OpenRead(string relativePath, bool allowHardLinks = false) => SafePath.OpenRead(DataDirectory, relativePath, allowHardLinks);

    /// <summary>
    /// Opens or creates a file under <see cref="DataDirectory"/> for writing, with the checks of
    /// <see cref="OpenRead"/>; a file or folder it creates is owner-only on Unix (see <see cref="SafePath.OpenWrite"/>).
    /// </summary>
    /// <param name="relativePath">A relative path such as <c>notes/today.md</c>, possibly supplied by a user.</param>
    /// <param name="mode">How to open the file; default <see cref="FileMode.Create"/> (truncated once the check has passed).</param>
    /// <param name="allowHardLinks">Whether an existing file with more than one hard link may be opened. Default <see langword="false"/>.</param>
    /// <returns>A write-only stream; dispose it.</returns>
    /// <exception cref="UnauthorizedAccessException">The path or the opened file is refused.</exception>
    /// <exception cref="IOException">The file cannot be opened.</exception>
    FileStream OpenWrite(string relativePath, FileMode mode = FileMode.Create, bool allowHardLinks = false)
        => SafePath.OpenWrite(DataDirectory, relativePath, mode, allowHardLinks);

    /// <summary>
    /// Replaces or creates a file under <see cref="DataDirectory"/> atomically: a temporary file in the same folder
    /// (owner-only on Unix), flushed to disk, then renamed over the target (see <see cref="SafePath.WriteAllBytesAtomic"/>).
    /// </summary>
    /// <param name="relativePath">A relative path such as <c>config.json</c>, possibly supplied by a user.</param>
    /// <param name="contents">The new content.</param>
    /// <exception cref="UnauthorizedAccessException">The path or the temporary file is refused.</exception>
    /// <exception cref="IOException">The file cannot be written or renamed.</exception>
    void WriteAllBytesAtomic(string relativePath, ReadOnlySpan<byte> contents) => SafePath.WriteAllBytesAtomic(DataDirectory, relativePath, contents);

    /// <summary>Replaces or creates a file under <see cref="DataDirectory"/> atomically, like <see cref="WriteAllBytesAtomic"/>, writing asynchronously.</summary>
    /// <param name="relativePath">A relative path such as <c>config.json</c>, possibly supplied by a user.</param>
    /// <param name="contents">The new content.</param>
    /// <param name="cancellationToken">Cancels the write; the target is then left as it was.</param>
    /// <returns>A task that completes once the new content is on disk under the target's name.</returns>
    /// <exception cref="UnauthorizedAccessException">The path or the temporary file is refused.</exception>
    /// <exception cref="IOException">The file cannot be written or renamed.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled before the rename.</exception>
    Task WriteAllBytesAtomicAsync(string relativePath, ReadOnlyMemory<byte> contents, CancellationToken cancellationToken = default)
        => SafePath.WriteAllBytesAtomicAsync(DataDirectory, relativePath, contents, cancellationToken);

    /// <summary>
    /// Gets the plugin's key-value store: shared by every replica when the host registers a shared
    /// <see cref="PluginStoreBackend"/> (<c>Compose.PostgreSql</c>), otherwise files under <see cref="DataDirectory"/>
    /// (<see cref="FilePluginStore"/>). Keys are namespaced by the plugin's id.
    /// </summary>
    /// <exception cref="NotSupportedException">This implementation of the interface (a test double) has no store.</exception>
    IPluginStore Store => throw new NotSupportedException($"This {GetType().Name} has no plugin store; Compose's own context has one.");

    /// <summary>
    /// Gets the plugin's cluster events: delivered to this plugin on every replica through the shared
    /// <see cref="PluginStoreBackend"/>, or in process (<see cref="InProcessClusterEvents"/>) without one.
    /// </summary>
    /// <exception cref="NotSupportedException">This implementation of the interface (a test double) has no events.</exception>
    IPluginClusterEvents Events => throw new NotSupportedException($"This {GetType().Name} has no cluster events; Compose's own context has them.");
}
