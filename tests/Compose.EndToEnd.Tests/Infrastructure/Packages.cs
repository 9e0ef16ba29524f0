using System.IO.Compression;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using System.Xml.Linq;

namespace Compose.EndToEnd.Tests.Infrastructure;

/// <summary>A .nupkg opened for inspection.</summary>
public sealed class NuGetPackage : IDisposable
{
    private readonly ZipArchive _archive;

    public NuGetPackage(string path)
    {
        Path = path;
        _archive = ZipFile.OpenRead(path);
        var nuspecEntry = _archive.Entries.SingleOrDefault(e => !e.FullName.Contains('/') && e.FullName.EndsWith(".nuspec", StringComparison.OrdinalIgnoreCase))
            ?? throw new Xunit.Sdk.XunitException($"{path} has no .nuspec at its root. Entries: {string.Join(", ", EntryNames)}");
        using var stream = nuspecEntry.Open();
        Nuspec = XDocument.Load(stream);
    }

    public string Path { get; }

    /// <summary>Gets every file in the package (forward slashes, as stored).</summary>
    public IReadOnlyList<string> EntryNames => _archive.Entries.Select(e => e.FullName).ToList();

    public XDocument Nuspec { get; }

    /// <summary>The text of a nuspec <c>metadata</c> child, or null.</summary>
    public XElement? Metadata(string name) =>
        Nuspec.Root?.Elements().FirstOrDefault(e => e.Name.LocalName == "metadata")?.Elements().FirstOrDefault(e => e.Name.LocalName == name);

    /// <summary>Every <c>dependency</c> in the nuspec (any target framework group): id and version range.</summary>
    public IReadOnlyList<(string Id, string Version)> Dependencies =>
        Nuspec.Descendants().Where(e => e.Name.LocalName == "dependency")
            .Select(e => ((string?)e.Attribute("id") ?? "", (string?)e.Attribute("version") ?? ""))
            .ToList();

    /// <summary>Reads an entry's bytes.</summary>
    public byte[] Read(string entryName)
    {
        var entry = _archive.GetEntry(entryName) ?? throw new Xunit.Sdk.XunitException($"{Path} has no entry {entryName}.");
        using var stream = entry.Open();
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }

    public void Dispose() => _archive.Dispose();
}

/// <summary>Reads assembly metadata without loading the assembly.</summary>
public static class AssemblyMetadata
{
    /// <summary>The <see cref="System.Reflection.AssemblyInformationalVersionAttribute"/> value of an assembly image, or null.</summary>
    public static string? InformationalVersion(byte[] image)
    {
        using var pe = new PEReader(new MemoryStream(image));
        var reader = pe.GetMetadataReader();
        foreach (var handle in reader.GetAssemblyDefinition().GetCustomAttributes())
        {
            var attribute = reader.GetCustomAttribute(handle);
            if (AttributeTypeName(reader, attribute) != "System.Reflection.AssemblyInformationalVersionAttribute")
            {
                continue;
            }

            var blob = reader.GetBlobReader(attribute.Value);
            return blob.ReadUInt16() == 1 ? blob.ReadSerializedString() : null;
        }

        return null;
    }

    private static string? AttributeTypeName(MetadataReader reader, CustomAttribute attribute)
    {
        if (attribute.Constructor.Kind != HandleKind.MemberReference)
        {
            return null;
        }

        var parent = reader.GetMemberReference((MemberReferenceHandle)attribute.Constructor).Parent;
        if (parent.Kind != HandleKind.TypeReference)
        {
            return null;
        }

        var type = reader.GetTypeReference((TypeReferenceHandle)parent);
        return $"{reader.GetString(type.Namespace)}.{reader.GetString(type.Name)}";
    }
}
