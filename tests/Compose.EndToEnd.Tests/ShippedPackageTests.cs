using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using System.Text.Json;
using System.Xml.Linq;
using Compose.EndToEnd.Tests.Infrastructure;

namespace Compose.EndToEnd.Tests;

/// <summary>
/// The packages this repository ships, as a consumer and a debugger receive them: license and README in the nuspec and
/// the package, XML docs beside every library assembly, symbol packages whose PDBs match the assemblies and point with
/// Source Link at the repository at the packed commit, deterministic builds, and the generator and analyzers under
/// analyzers/dotnet/cs built against the oldest Roslyn Compose supports. docs/compatibility.md states the rules.
/// </summary>
[Trait("Category", "EndToEnd")]
[Collection(EndToEndCollection.Name)]
public sealed class ShippedPackageTests(PackedFeedFixture feed)
{
    /// <summary>The Roslyn of the .NET 8 SDK (8.0.1xx): the oldest compiler the generator and analyzers load in.</summary>
    private static readonly Version RoslynFloor = new(4, 8, 0, 0);

    private static readonly Guid SourceLinkKind = new("CC110556-A091-4D38-9FEC-25AB9A351A6A");
    private static readonly Guid EmbeddedSourceKind = new("0E8A571B-6926-466E-B4AD-8AB04611F5FE");

    /// <summary>Gets the packages with assemblies: the id and the project that builds it.</summary>
    public static TheoryData<string, string> LibraryPackages => new()
    {
        { PackedFeedFixture.AbstractionsId, "src/Abstractions/Compose.Abstractions.csproj" },
        { PackedFeedFixture.TestingId, "src/Testing/Compose.Testing.csproj" },
        { PackedFeedFixture.PostgreSqlId, "src/PostgreSql/Compose.PostgreSql.csproj" },
        { PackedFeedFixture.GatewayId, "src/Gateway/Compose.Gateway.csproj" },
    };

    /// <summary>Gets the ids of the packages with assemblies.</summary>
    public static TheoryData<string> LibraryPackageIds => new()
    {
        PackedFeedFixture.AbstractionsId,
        PackedFeedFixture.TestingId,
        PackedFeedFixture.PostgreSqlId,
        PackedFeedFixture.GatewayId,
    };

    /// <summary>Gets every package this repository ships (the libraries and the template pack).</summary>
    public static TheoryData<string> ShippedPackages => new()
    {
        PackedFeedFixture.AbstractionsId,
        PackedFeedFixture.TestingId,
        PackedFeedFixture.PostgreSqlId,
        PackedFeedFixture.GatewayId,
        PackedFeedFixture.TemplatesId,
    };

    [Theory]
    [MemberData(nameof(ShippedPackages))]
    public void Package_DeclaresTheMitLicenseAsAnExpression(string id)
    {
        using var package = new NuGetPackage(feed.PackagePath(id));
        var license = package.Metadata("license");
        Assert.True(
            license is not null && (string?)license.Attribute("type") == "expression" && license.Value == "MIT",
            $"{id}: no <license type=\"expression\">MIT</license> in:{Environment.NewLine}{package.Nuspec}");
    }

    [Theory]
    [MemberData(nameof(ShippedPackages))]
    public void Package_CarriesTheReadmeItsNuspecNames(string id)
    {
        using var package = new NuGetPackage(feed.PackagePath(id));
        var nuspec = package.Nuspec.ToString();
        var readme = package.Metadata("readme")?.Value;
        Assert.True(!string.IsNullOrEmpty(readme), $"{id}: no <readme> (PackageReadmeFile) in:{Environment.NewLine}{nuspec}");
        Assert.True(package.EntryNames.Contains(readme), $"{id}: the nuspec names {readme} as its README, but the package holds:{Environment.NewLine}{string.Join(Environment.NewLine, package.EntryNames)}");
        var text = System.Text.Encoding.UTF8.GetString(package.Read(readme)).TrimStart('\uFEFF');
        Assert.True(text.StartsWith($"# {id}", StringComparison.Ordinal), $"{id}: the README does not open with '# {id}':{Environment.NewLine}{text}");
        Assert.False(string.IsNullOrWhiteSpace(package.Metadata("description")?.Value), $"{id}: no description in:{Environment.NewLine}{nuspec}");
    }

    [Theory]
    [MemberData(nameof(LibraryPackages))]
    public void Package_HasAnAssemblyAndItsXmlDocsForEveryTargetFramework_DocumentingEveryPublicType(string id, string project)
    {
        using var package = new NuGetPackage(feed.PackagePath(id));
        var expected = TargetFrameworks(project);
        var lib = LibAssemblies(package, id);
        Assert.Equal(expected.Order(StringComparer.Ordinal), lib.Select(e => e.Split('/')[1]).Order(StringComparer.Ordinal));

        foreach (var dll in lib)
        {
            var xml = Path.ChangeExtension(dll, ".xml");
            Assert.True(package.EntryNames.Contains(xml), $"{id}: {dll} has no XML docs ({xml}) beside it. The package holds:{Environment.NewLine}{string.Join(Environment.NewLine, package.EntryNames)}");

            var docs = XDocument.Parse(System.Text.Encoding.UTF8.GetString(package.Read(xml)).TrimStart('\uFEFF'));
            Assert.Equal(id, docs.Root?.Element("assembly")?.Element("name")?.Value);
            var documented = docs.Descendants("member").Select(m => (string?)m.Attribute("name")).ToHashSet(StringComparer.Ordinal);

            using var pe = new PEReader(new MemoryStream(package.Read(dll)));
            var undocumented = PublicTypeDocumentationIds(pe.GetMetadataReader()).Where(t => !documented.Contains(t)).ToList();
            Assert.True(undocumented.Count == 0, $"{id}: {xml} documents none of these public types of {dll}: {string.Join(", ", undocumented)}");
        }
    }

    [Theory]
    [MemberData(nameof(LibraryPackageIds))]
    public void SymbolPackage_HoldsTheMatchingPdbOfEveryAssembly_WithSourceLinkToTheRepositoryAtThePackedCommit(string id)
    {
        using var package = new NuGetPackage(feed.PackagePath(id));
        using var symbols = new NuGetPackage(feed.SymbolPackagePath(id));
        Assert.Contains(symbols.Nuspec.Descendants(), e => e.Name.LocalName == "packageType" && (string?)e.Attribute("name") == "SymbolsPackage");

        // The repository the nuspec names (Directory.Build.props RepositoryUrl) at the commit the package was built from.
        var repository = package.Metadata("repository");
        var repositoryUrl = (string?)repository?.Attribute("url");
        Assert.Equal(RepositoryUrl(), repositoryUrl);
        var commit = (string?)repository?.Attribute("commit") ?? "";
        Assert.Matches("^[0-9a-f]{40}$", commit);
        var repositoryPath = new Uri(repositoryUrl!).AbsolutePath.Trim('/'); // owner/name
        var contentRoot = $"https://raw.githubusercontent.com/{repositoryPath}/{commit}/";

        foreach (var dll in LibAssemblies(package, id))
        {
            var pdb = Path.ChangeExtension(dll, ".pdb");
            Assert.True(symbols.EntryNames.Contains(pdb), $"{id}: the symbol package has no {pdb} for {dll}. It holds:{Environment.NewLine}{string.Join(Environment.NewLine, symbols.EntryNames)}");

            // The PDB is the one the debugger looks for: its id is the one the assembly's CodeView entry names.
            using var pe = new PEReader(new MemoryStream(package.Read(dll)));
            var codeView = pe.ReadDebugDirectory().Single(e => e.Type == DebugDirectoryEntryType.CodeView);
            var codeViewData = pe.ReadCodeViewDebugDirectoryData(codeView);
            using var pdbProvider = MetadataReaderProvider.FromPortablePdbImage(System.Collections.Immutable.ImmutableArray.Create(symbols.Read(pdb)));
            var reader = pdbProvider.GetMetadataReader();
            var pdbId = reader.DebugMetadataHeader?.Id ?? throw new Xunit.Sdk.XunitException($"{id}: {pdb} is not a portable PDB.");
            Assert.True(
                new Guid(pdbId.AsSpan(0, 16)) == codeViewData.Guid && BitConverter.ToUInt32(pdbId.AsSpan(16, 4)) == codeView.Stamp,
                $"{id}: {pdb} (id {Convert.ToHexString(pdbId.AsSpan())}) is not the PDB of {dll} (CodeView {codeViewData.Guid}, stamp {codeView.Stamp:x8}).");

            var sourceLink = SourceLinkMap(reader) ?? throw new Xunit.Sdk.XunitException($"{id}: {pdb} has no Source Link.");
            Assert.All(sourceLink.Values, url => Assert.StartsWith(contentRoot, url, StringComparison.Ordinal));

            // Every source document is either fetched through Source Link from a file of this repository, or embedded.
            var embedded = EmbeddedDocuments(reader);
            var linked = 0;
            foreach (var handle in reader.Documents)
            {
                var name = reader.GetString(reader.GetDocument(handle).Name);
                if (embedded.Contains(handle))
                {
                    continue;
                }

                var url = MapSourceLink(sourceLink, name);
                Assert.True(url is not null, $"{id}: {pdb}: {name} is neither embedded nor covered by the Source Link map {JsonSerializer.Serialize(sourceLink)}");
                var relative = Uri.UnescapeDataString(url![contentRoot.Length..]);
                Assert.True(File.Exists(Path.Combine(RepoPaths.Root, relative)), $"{id}: {pdb}: Source Link maps {name} to {url}, but the repository has no {relative}.");
                linked++;
            }

            Assert.True(linked > 0, $"{id}: {pdb} links no document through Source Link.");
        }
    }

    [Theory]
    [MemberData(nameof(LibraryPackageIds))]
    public void Assemblies_AreCompiledDeterministically(string id)
    {
        using var package = new NuGetPackage(feed.PackagePath(id));
        foreach (var dll in AllAssemblies(package, id))
        {
            // The compiler writes a Reproducible debug directory entry only for a /deterministic compilation.
            using var pe = new PEReader(new MemoryStream(package.Read(dll)));
            var entries = pe.ReadDebugDirectory();
            Assert.True(entries.Any(e => e.Type == DebugDirectoryEntryType.Reproducible), $"{id}: {dll} was not compiled deterministically (no Reproducible debug directory entry; it has {string.Join(", ", entries.Select(e => e.Type))}).");
        }
    }

    [Theory]
    [MemberData(nameof(LibraryPackageIds))]
    public void AssembliesAndPdbs_HoldNoPathOfTheBuildMachine(string id)
    {
        using var package = new NuGetPackage(feed.PackagePath(id));
        using var symbols = new NuGetPackage(feed.SymbolPackagePath(id));

        // Deterministic source paths (ContinuousIntegrationBuild): the same commit builds the same bytes on any machine.
        foreach (var dll in AllAssemblies(package, id))
        {
            using var pe = new PEReader(new MemoryStream(package.Read(dll)));
            var pdbPath = pe.ReadCodeViewDebugDirectoryData(pe.ReadDebugDirectory().Single(e => e.Type == DebugDirectoryEntryType.CodeView)).Path;
            AssertNoBuildMachinePath(id, $"{dll} (CodeView PDB path)", pdbPath);
        }

        foreach (var dll in LibAssemblies(package, id))
        {
            using var pdbProvider = MetadataReaderProvider.FromPortablePdbImage(System.Collections.Immutable.ImmutableArray.Create(symbols.Read(Path.ChangeExtension(dll, ".pdb"))));
            var reader = pdbProvider.GetMetadataReader();
            foreach (var handle in reader.Documents)
            {
                AssertNoBuildMachinePath(id, $"{dll} (PDB document)", reader.GetString(reader.GetDocument(handle).Name));
            }
        }
    }

    [Fact]
    public void AbstractionsPackage_CarriesTheGeneratorAnalyzersAndCodeFixes_BuiltForTheRoslynFloor()
    {
        using var package = new NuGetPackage(feed.PackagePath(PackedFeedFixture.AbstractionsId));
        string[] expected =
        [
            "analyzers/dotnet/cs/Compose.Analyzers.dll",
            "analyzers/dotnet/cs/Compose.CodeFixes.dll",
            "analyzers/dotnet/cs/Compose.Generator.dll",
        ];

        // These three and nothing else: no Roslyn or other dependency copied beside them, nothing for other languages.
        var analyzers = package.EntryNames.Where(e => e.StartsWith("analyzers/", StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(expected, analyzers);

        foreach (var entry in expected)
        {
            using var pe = new PEReader(new MemoryStream(package.Read(entry)));
            var reader = pe.GetMetadataReader();
            Assert.Equal(".NETStandard,Version=v2.0", TargetFrameworkOf(reader));

            var roslyn = reader.AssemblyReferences.Select(reader.GetAssemblyReference)
                .Where(r => reader.GetString(r.Name).StartsWith("Microsoft.CodeAnalysis", StringComparison.Ordinal))
                .Select(r => (Name: reader.GetString(r.Name), r.Version))
                .ToList();
            Assert.True(roslyn.Any(r => r.Name == "Microsoft.CodeAnalysis"), $"{entry} references no Microsoft.CodeAnalysis.");
            var tooNew = roslyn.Where(r => r.Version > RoslynFloor).ToList();
            Assert.True(tooNew.Count == 0, $"{entry} references {string.Join(", ", tooNew.Select(r => $"{r.Name} {r.Version}"))}: newer than Roslyn {RoslynFloor}, the compiler of the .NET 8 SDK, so it would not load there.");
        }
    }

    private static void AssertNoBuildMachinePath(string id, string what, string path)
    {
        string[] machinePaths = [RepoPaths.Root, Path.GetTempPath(), Environment.GetFolderPath(Environment.SpecialFolder.UserProfile)];
        var leaked = machinePaths.Where(p => p.Length > 1 && path.Replace('\\', '/').StartsWith(p.Replace('\\', '/').TrimEnd('/') + "/", StringComparison.OrdinalIgnoreCase)).ToList();
        Assert.True(leaked.Count == 0, $"{id}: {what} {path} is a path of the build machine ({string.Join(", ", leaked)}): the build is not reproducible elsewhere.");
    }

    /// <summary>Every assembly in a package: lib/ and analyzers/.</summary>
    private static List<string> AllAssemblies(NuGetPackage package, string id)
    {
        var assemblies = package.EntryNames.Where(e => e.EndsWith(".dll", StringComparison.OrdinalIgnoreCase)).ToList();
        Assert.True(assemblies.Count > 0, $"{id}: the package holds no assembly.");
        return assemblies;
    }

    /// <summary>The lib/{tfm}/{id}.dll entries of a package.</summary>
    private static List<string> LibAssemblies(NuGetPackage package, string id)
    {
        var lib = package.EntryNames.Where(e => e.StartsWith("lib/", StringComparison.Ordinal) && e.EndsWith(".dll", StringComparison.OrdinalIgnoreCase)).ToList();
        Assert.True(lib.Count > 0, $"{id}: no assembly under lib/. The package holds:{Environment.NewLine}{string.Join(Environment.NewLine, package.EntryNames)}");
        Assert.All(lib, e => Assert.Matches($"^lib/[^/]+/{System.Text.RegularExpressions.Regex.Escape(id)}\\.dll$", e));
        return lib;
    }

    /// <summary>The TargetFramework or TargetFrameworks of a project file of the repository.</summary>
    private static List<string> TargetFrameworks(string project)
    {
        var document = XDocument.Load(Path.Combine(RepoPaths.Root, project));
        var value = document.Descendants("TargetFrameworks").Concat(document.Descendants("TargetFramework")).Select(e => e.Value).First();
        return value.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
    }

    private static string RepositoryUrl() =>
        XDocument.Load(Path.Combine(RepoPaths.Root, "Directory.Build.props")).Descendants("RepositoryUrl").Single().Value;

    /// <summary>The documentation ids (<c>T:Namespace.Outer.Inner`1</c>) of the types visible outside the assembly.</summary>
    private static IEnumerable<string> PublicTypeDocumentationIds(MetadataReader reader)
    {
        foreach (var handle in reader.TypeDefinitions)
        {
            var type = reader.GetTypeDefinition(handle);
            if (IsVisible(reader, type))
            {
                yield return "T:" + DocumentationName(reader, type);
            }
        }
    }

    private static bool IsVisible(MetadataReader reader, TypeDefinition type)
    {
        var visibility = type.Attributes & System.Reflection.TypeAttributes.VisibilityMask;
        return visibility switch
        {
            System.Reflection.TypeAttributes.Public => true,
            System.Reflection.TypeAttributes.NestedPublic or System.Reflection.TypeAttributes.NestedFamily or System.Reflection.TypeAttributes.NestedFamORAssem
                => IsVisible(reader, reader.GetTypeDefinition(type.GetDeclaringType())),
            _ => false,
        };
    }

    private static string DocumentationName(MetadataReader reader, TypeDefinition type)
    {
        var name = reader.GetString(type.Name);
        if (type.IsNested)
        {
            return DocumentationName(reader, reader.GetTypeDefinition(type.GetDeclaringType())) + "." + name;
        }

        var ns = reader.GetString(type.Namespace);
        return ns.Length == 0 ? name : ns + "." + name;
    }

    private static string? TargetFrameworkOf(MetadataReader reader)
    {
        foreach (var handle in reader.GetAssemblyDefinition().GetCustomAttributes())
        {
            var attribute = reader.GetCustomAttribute(handle);
            if (attribute.Constructor.Kind != HandleKind.MemberReference)
            {
                continue;
            }

            var parent = reader.GetMemberReference((MemberReferenceHandle)attribute.Constructor).Parent;
            if (parent.Kind == HandleKind.TypeReference && reader.GetString(reader.GetTypeReference((TypeReferenceHandle)parent).Name) == "TargetFrameworkAttribute")
            {
                var blob = reader.GetBlobReader(attribute.Value);
                return blob.ReadUInt16() == 1 ? blob.ReadSerializedString() : null;
            }
        }

        return null;
    }

    /// <summary>The Source Link <c>documents</c> map of a portable PDB, or null when it has none.</summary>
    private static Dictionary<string, string>? SourceLinkMap(MetadataReader reader)
    {
        foreach (var handle in reader.GetCustomDebugInformation(EntityHandle.ModuleDefinition))
        {
            var information = reader.GetCustomDebugInformation(handle);
            if (reader.GetGuid(information.Kind) != SourceLinkKind)
            {
                continue;
            }

            using var json = JsonDocument.Parse(reader.GetBlobBytes(information.Value));
            return json.RootElement.GetProperty("documents").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString() ?? "", StringComparer.Ordinal);
        }

        return null;
    }

    /// <summary>The documents whose source text the PDB embeds.</summary>
    private static HashSet<DocumentHandle> EmbeddedDocuments(MetadataReader reader)
    {
        var embedded = new HashSet<DocumentHandle>();
        foreach (var handle in reader.CustomDebugInformation)
        {
            var information = reader.GetCustomDebugInformation(handle);
            if (information.Parent.Kind == HandleKind.Document && reader.GetGuid(information.Kind) == EmbeddedSourceKind)
            {
                embedded.Add((DocumentHandle)information.Parent);
            }
        }

        return embedded;
    }

    /// <summary>Maps a document path as a debugger does: an exact key, or the longest <c>prefix*</c> key, its <c>*</c> replaced.</summary>
    private static string? MapSourceLink(Dictionary<string, string> map, string path)
    {
        if (map.TryGetValue(path, out var exact))
        {
            return exact;
        }

        var match = map.Where(p => p.Key.EndsWith('*') && path.StartsWith(p.Key[..^1], StringComparison.Ordinal))
            .OrderByDescending(p => p.Key.Length)
            .Select(p => p.Value.Replace("*", path[(p.Key.Length - 1)..].Replace('\\', '/'), StringComparison.Ordinal))
            .FirstOrDefault();
        return match;
    }
}
