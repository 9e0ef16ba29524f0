using System.Collections.Immutable;
using System.Text;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Compose.Generator;

/// <summary>
/// Turns Roslyn symbols into <see cref="PluginModel"/>s, with the rules of <see cref="PluginRules"/> (the analyzers
/// report them; here only their ids are kept, for the manifest). Never throws on bad input.
/// </summary>
internal static class PluginParser
{
    public const string ServerPluginAttributeName = PluginRules.ServerPluginAttributeName;
    public const string ManifestAttributeName = "Compose.ServerPluginManifestAttribute";
    public const string PluginInterfaceName = PluginRules.PluginInterfaceName;

    /// <summary>Parses one type carrying <c>[ServerPlugin]</c> in the current compilation; null for a type that is not a class.</summary>
    public static PluginModel? ParseOwn(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken)
    {
        if (context.TargetSymbol is not INamedTypeSymbol type || context.Attributes.IsDefaultOrEmpty)
        {
            return null;
        }

        var attribute = context.Attributes[0];
        if (PluginRules.CheckKind(type, attribute, cancellationToken) is not null)
        {
            return null;
        }

        var (id, name, description, environments, entryScript) = ReadPluginAttribute(attribute);
        var check = PluginRules.CheckClass(type, context.SemanticModel.Compilation, cancellationToken);
        var errors = check.ErrorIds.ToList();
        if (PluginRules.CheckId(type, attribute, cancellationToken) is not null)
        {
            errors.Insert(0, DiagnosticIds.InvalidPluginId);
        }

        errors.AddRange(PluginRules.CheckDependsOn(type, attribute, cancellationToken)
            .Concat(PluginRules.CheckEnvironments(type, attribute, cancellationToken))
            .Where(v => v.IsError)
            .Select(v => v.Descriptor.Id));
        var dependsOn = PluginRules.DependsOnOf(attribute, cancellationToken)
            .Select(d => d.Id)
            .Where(d => PluginId.IsValid(d) && d != id)
            .Distinct(StringComparer.Ordinal)
            .ToEquatableArray();

        return new PluginModel(
            id ?? string.Empty,
            name,
            description,
            check.IsReferenceable ? type.ToDisplayString(PluginRules.TypeFormat) : string.Empty,
            DisplayName(type),
            errors.Count == 0 && check.IsComposable,
            check.Dependencies,
            check.HasConfigureServices,
            check.HasExitAsync,
            errors.Distinct().OrderBy(e => e, StringComparer.Ordinal).ToEquatableArray())
        {
            Environments = environments,
            EntryScript = entryScript,
            DependsOn = dependsOn,
        };
    }

    /// <summary>Reads what a host build needs of the compilation itself: cheap, as it runs again on every edit.</summary>
    public static HostIdentity ParseHost(Compilation compilation)
        => new(
            compilation.AssemblyName ?? string.Empty,
            VersionOf(compilation.Assembly),
            Composition.IsExecutable(compilation.Options.OutputKind));

    /// <summary>
    /// Reads the manifests of <paramref name="references"/> and checks each plugin class they name again. It needs
    /// symbols but not the host's source, so it binds the references in a compilation of their own, without syntax
    /// trees: the result depends only on the references and <paramref name="context"/>, and the pipeline runs this
    /// again only when one of them changes, never on an edit of the host's code.
    /// </summary>
    public static ReferencedManifests ParseReferences(ImmutableArray<MetadataReference> references, ReferenceContext context, CancellationToken cancellationToken)
    {
        if (!context.IsHost)
        {
            return ReferencedManifests.None;
        }

        // The host's own name, so InternalsVisibleTo grants the same access, and its import options (the IDE imports
        // all members, the command-line compiler public ones).
        var compilation = CSharpCompilation.Create(
            context.AssemblyName.Length > 0 ? context.AssemblyName : "Compose.References",
            syntaxTrees: null,
            references,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, metadataImportOptions: context.ImportOptions));
        var pluginInterface = compilation.GetTypeByMetadataName(PluginInterfaceName);
        if (pluginInterface is null)
        {
            return ReferencedManifests.None;
        }

        var referenced = ImmutableArray.CreateBuilder<PluginModel>();
        var manifestAttribute = compilation.GetTypeByMetadataName(ManifestAttributeName);
        var composeAssembly = pluginInterface.ContainingAssembly;
        foreach (var assembly in compilation.SourceModule.ReferencedAssemblySymbols)
        {
            cancellationToken.ThrowIfCancellationRequested();

            // Only an assembly compiled against Compose.Abstractions can carry a manifest: skip the framework's
            // attributes without decoding them.
            if (manifestAttribute is null
                || SymbolEqualityComparer.Default.Equals(assembly, composeAssembly)
                || !assembly.Modules.Any(m => m.ReferencedAssemblies.Any(r => r.Name == composeAssembly.Identity.Name)))
            {
                continue;
            }

            foreach (var attribute in assembly.GetAttributes())
            {
                if (SymbolEqualityComparer.Default.Equals(attribute.AttributeClass, manifestAttribute))
                {
                    referenced.Add(ParseManifestEntry(attribute, assembly, compilation, cancellationToken));
                }
            }
        }

        return new ReferencedManifests(true, composeAssembly.Identity.Version.ToString(3), referenced.ToImmutable().ToEquatableArray());
    }

    private static PluginModel ParseManifestEntry(AttributeData attribute, IAssemblySymbol assembly, Compilation compilation, CancellationToken cancellationToken)
    {
        var args = attribute.ConstructorArguments;
        var id = args.Length > 0 ? args[0].Value as string ?? string.Empty : string.Empty;
        var type = args.Length > 1 ? args[1].Value as INamedTypeSymbol : null;
        string? name = null, description = null, typeName = null, composeVersion = null, errorList = null, environments = null, entryScript = null, webAssetsPath = null, dependsOn = null;
        bool hasConfigureServices = false, hasExitAsync = false;
        foreach (var named in attribute.NamedArguments)
        {
            switch (named.Key)
            {
                case "Name": name = named.Value.Value as string; break;
                case "Description": description = named.Value.Value as string; break;
                case "TypeName": typeName = named.Value.Value as string; break;
                case "ComposeVersion": composeVersion = named.Value.Value as string; break;
                case "Errors": errorList = named.Value.Value as string; break;
                case "Environments": environments = named.Value.Value as string; break;
                case "EntryScript": entryScript = named.Value.Value as string; break;
                case "WebAssetsPath": webAssetsPath = named.Value.Value as string; break;
                case "DependsOn": dependsOn = named.Value.Value as string; break;
                case "HasConfigureServices": hasConfigureServices = named.Value.Value is true; break;
                case "HasExitAsync": hasExitAsync = named.Value.Value is true; break;
            }
        }

        var errors = SplitList(errorList).ToList();

        // Check the class again with the same rules: a manifest may be stale or hand-written, and the generated host
        // code relies on what the class really declares, never on what the manifest says.
        var dependencies = EquatableArray<DependencyModel>.Empty;
        var referenceable = false;
        ManifestMismatch? mismatch = null;
        if (type is not null && type.TypeKind != TypeKind.Error)
        {
            var check = PluginRules.CheckClass(type, compilation, cancellationToken);
            referenceable = check.IsComposable;
            dependencies = check.Dependencies;
            errors.AddRange(check.ErrorIds);
            if (check.Violations.Count == 0)
            {
                mismatch = Mismatch("HasConfigureServices", hasConfigureServices, check.HasConfigureServices, "a public static ConfigureServices(IServiceCollection, IConfiguration)")
                           ?? Mismatch("HasExitAsync", hasExitAsync, check.HasExitAsync, "its own ExitAsync(CancellationToken)");
                (hasConfigureServices, hasExitAsync) = (check.HasConfigureServices, check.HasExitAsync);
            }
        }

        if (!PluginId.IsValid(id))
        {
            errors.Add(DiagnosticIds.InvalidPluginId);
        }

        // The plugin library's generator never writes these (its analyzers stop the build first), so a manifest that has
        // them is hand-written or tampered with: refuse the plugin with the rule's id rather than drop the entry, which
        // would compose it without a dependency it declared.
        var declared = SplitList(dependsOn).ToList();
        if (declared.Any(d => !PluginId.IsValid(d)))
        {
            errors.Add(DiagnosticIds.InvalidDependencyId);
        }

        if (declared.Contains(id, StringComparer.Ordinal))
        {
            errors.Add(DiagnosticIds.SelfDependency);
        }

        if (type is null && errors.Count == 0)
        {
            errors.Add(DiagnosticIds.PluginNotComposable);
        }

        var display = type is not null ? DisplayName(type) : typeName ?? "(unknown type)";
        return new PluginModel(
            id,
            name,
            description,
            referenceable ? type!.ToDisplayString(PluginRules.TypeFormat) : string.Empty,
            display,
            referenceable && errors.Count == 0 && mismatch is null,
            dependencies,
            hasConfigureServices,
            hasExitAsync,
            errors.Distinct().OrderBy(e => e, StringComparer.Ordinal).ToEquatableArray())
        {
            AssemblyName = assembly.Identity.Name,
            Version = VersionOf(assembly),
            ComposeVersion = composeVersion,
            EntryScript = entryScript,
            WebAssetsPath = webAssetsPath,
            Environments = SplitList(environments).ToEquatableArray(),
            DependsOn = declared.Where(PluginId.IsValid).Distinct(StringComparer.Ordinal).ToEquatableArray(),
            ManifestMismatch = mismatch,
        };
    }

    /// <summary>What a manifest claims and what the class really is, for CMP0020; null when they agree.</summary>
    private static ManifestMismatch? Mismatch(string property, bool claimed, bool actual, string member)
        => claimed == actual
            ? null
            : new ManifestMismatch($"{property} = {(claimed ? "true" : "false")}", (actual ? "declares " : "does not declare ") + member);

    private static IEnumerable<string> SplitList(string? list)
        => (list ?? string.Empty)
            .Split(new[] { ',' }, StringSplitOptions.RemoveEmptyEntries)
            .Select(e => e.Trim())
            .Where(e => e.Length > 0);

    private static string DisplayName(INamedTypeSymbol type)
        => type.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat.WithGlobalNamespaceStyle(SymbolDisplayGlobalNamespaceStyle.Omitted));

    private static (string? Id, string? Name, string? Description, EquatableArray<string> Environments, string? EntryScript) ReadPluginAttribute(AttributeData attribute)
    {
        var id = PluginRules.IdOf(attribute);
        string? name = null, description = null, entryScript = null;
        var environments = EquatableArray<string>.Empty;
        foreach (var named in attribute.NamedArguments)
        {
            switch (named.Key)
            {
                case "Name":
                    name = named.Value.Value as string;
                    break;
                case "Description":
                    description = named.Value.Value as string;
                    break;
                case "EntryScript":
                    entryScript = named.Value.Value as string is { Length: > 0 } script ? script.TrimStart('/') : null;
                    break;
                case "Environments" when named.Value.Kind == TypedConstantKind.Array && !named.Value.IsNull:
                    environments = named.Value.Values
                        .Select(v => v.Value as string)
                        .Where(v => !string.IsNullOrWhiteSpace(v))
                        .Select(v => v!.Trim())
                        .ToEquatableArray();
                    break;
            }
        }

        return (id, name, description, environments, entryScript);
    }

    private static string VersionOf(IAssemblySymbol assembly)
    {
        foreach (var attribute in assembly.GetAttributes())
        {
            if (attribute.AttributeClass?.ToDisplayString() == "System.Reflection.AssemblyInformationalVersionAttribute"
                && attribute.ConstructorArguments.Length == 1
                && attribute.ConstructorArguments[0].Value is string { Length: > 0 } informational)
            {
                return informational;
            }
        }

        return assembly.Identity.Version.ToString();
    }
}

/// <summary>Luker's plugin id rule: <c>^[a-z0-9_-]+$</c>.</summary>
internal static class PluginId
{
    public static bool IsValid(string? id)
    {
        if (string.IsNullOrEmpty(id))
        {
            return false;
        }

        foreach (var c in id!)
        {
            if (!(c is >= 'a' and <= 'z' or >= '0' and <= '9' or '-' or '_'))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// Suggests a valid id: "MyPlugin" → "my-plugin", "my.plugin" → "my-plugin". An empty id is derived from the
    /// class name without its "Plugin" suffix.
    /// </summary>
    public static string Suggest(string? id, string className)
    {
        var source = string.IsNullOrWhiteSpace(id) ? StripSuffix(className) : id!;
        var builder = new StringBuilder(source.Length + 4);
        for (var i = 0; i < source.Length; i++)
        {
            var c = source[i];
            if (char.IsUpper(c))
            {
                var previous = i > 0 ? source[i - 1] : '\0';
                var next = i + 1 < source.Length ? source[i + 1] : '\0';
                if (i > 0 && (char.IsLower(previous) || char.IsDigit(previous) || (char.IsUpper(previous) && char.IsLower(next))))
                {
                    Append(builder, '-');
                }

                Append(builder, char.ToLowerInvariant(c));
            }
            else if (c is >= 'a' and <= 'z' or >= '0' and <= '9' or '_')
            {
                builder.Append(c);
            }
            else if (char.IsLetter(c) && c < 128)
            {
                builder.Append(char.ToLowerInvariant(c));
            }
            else
            {
                Append(builder, '-');
            }
        }

        var suggestion = builder.ToString().Trim('-');
        return suggestion.Length > 0 ? suggestion : "plugin";
    }

    private static void Append(StringBuilder builder, char c)
    {
        if (c == '-' && (builder.Length == 0 || builder[builder.Length - 1] == '-'))
        {
            return;
        }

        builder.Append(c);
    }

    private static string StripSuffix(string className)
        => className.Length > "Plugin".Length && className.EndsWith("Plugin", StringComparison.Ordinal)
            ? className.Substring(0, className.Length - "Plugin".Length)
            : className;
}
