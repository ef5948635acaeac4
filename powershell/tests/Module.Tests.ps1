#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.5.0' }
# The module's surface: manifest, exported cmdlets, help, parameter validation, views, and the
# protocol client's life cycle against the real binary ($env:BMS2INTUNE_BIN or target/debug).

BeforeDiscovery {
    . (Join-Path -Path $PSScriptRoot -ChildPath 'Common.ps1')
    $script:Exported = @((Import-PowerShellDataFile -Path $script:ModuleManifest).FunctionsToExport | ForEach-Object { @{ Name = $_ } })
}

BeforeAll {
    . (Join-Path -Path $PSScriptRoot -ChildPath 'Common.ps1')
    Import-Module -Name $script:ModuleManifest -Force
}

AfterAll {
    Remove-Module -Name Bms2Intune -ErrorAction SilentlyContinue
}

Describe 'Manifest' {
    It 'is a valid module manifest' {
        $m = Test-ModuleManifest -Path $script:ModuleManifest -ErrorAction Stop
        $m.Name | Should -Be 'Bms2Intune'
        $m.CompatiblePSEditions | Should -Contain 'Desktop'
        $m.CompatiblePSEditions | Should -Contain 'Core'
    }
    It 'exports exactly the functions it lists' {
        $listed = (Import-PowerShellDataFile -Path $script:ModuleManifest).FunctionsToExport | Sort-Object
        $actual = (Get-Command -Module Bms2Intune).Name | Sort-Object
        $actual | Should -Be $listed
    }
    It 'keeps the protocol client private' {
        Get-Command -Module Bms2Intune -Name Invoke-BmsRpc -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
    }
}

Describe '<Name> help and binding' -ForEach $Exported {
    BeforeAll {
        $command = Get-Command -Name $Name -Module Bms2Intune
        $help = Get-Help -Name $Name -Full
    }
    It 'is an advanced function with the Bms noun prefix and an approved verb' {
        $command.CmdletBinding | Should -BeTrue
        $command.Noun | Should -BeLike 'Bms*'
        (Get-Verb).Verb | Should -Contain $command.Verb
    }
    It 'has a synopsis, a description and at least one example' {
        $help.Synopsis | Should -Not -BeNullOrEmpty
        $help.Synopsis | Should -Not -Match 'CommonParameters' -Because 'a generated synopsis means the comment help was not found'
        ($help.Description | Out-String).Trim() | Should -Not -BeNullOrEmpty
        @($help.Examples.Example).Count | Should -BeGreaterThan 0
    }
    It 'describes every parameter' {
        $common = @([System.Management.Automation.Cmdlet]::CommonParameters) + @([System.Management.Automation.Cmdlet]::OptionalCommonParameters)
        foreach ($p in $command.Parameters.Keys | Where-Object { $common -notcontains $_ }) {
            $ph = $help.Parameters.Parameter | Where-Object Name -eq $p
            ($ph.Description | Out-String).Trim() | Should -Not -BeNullOrEmpty -Because "-$p of $Name needs a description"
        }
    }
}

Describe 'Tenant-changing cmdlets' {
    It '<Name> supports -WhatIf and -Confirm with ConfirmImpact High' -ForEach @(
        @{ Name = 'Invoke-BmsMigrationWave' }
        @{ Name = 'Invoke-BmsMigrationStep' }
    ) {
        $command = Get-Command -Name $Name
        $command.Parameters.Keys | Should -Contain 'WhatIf'
        $command.Parameters.Keys | Should -Contain 'Confirm'
        $attr = $command.ScriptBlock.Attributes | Where-Object { $_ -is [System.Management.Automation.CmdletBindingAttribute] }
        $attr.ConfirmImpact | Should -Be 'High'
    }
}

Describe 'Parameter validation' {
    It 'rejects an unknown -As kind' {
        { Import-BmsTenantData -Path $PSCommandPath -As nonsense } | Should -Throw -ErrorId 'ParameterArgumentValidationError*'
    }
    It 'rejects a negative wave' {
        { Invoke-BmsMigrationWave -Wave -1 -WhatIf } | Should -Throw -ErrorId 'ParameterArgumentValidationError*'
    }
    It 'rejects an Android target other than device-admin or work-profile' {
        { ConvertTo-BmsIntunePolicy -AndroidTarget ios } | Should -Throw -ErrorId 'ParameterArgumentValidationError*'
    }
    It 'rejects a certificate thumbprint that is not 40 hex digits' {
        { Connect-BmsGraph -TenantId contoso.onmicrosoft.com -ClientId 11111111-2222-3333-4444-555555555555 -CertificateThumbprint 'abc' } | Should -Throw -ErrorId 'ParameterArgumentValidationError*'
    }
    It 'refuses to import a file that does not exist, naming it' {
        $missing = Join-Path -Path $TestDrive -ChildPath 'nope.csv'
        $err = $null
        try { Import-BmsTenantData -Path $missing -Workspace (Join-Path -Path $TestDrive -ChildPath 'w') } catch { $err = $_ }
        $err.FullyQualifiedErrorId | Should -BeLike 'module.file_not_found*'
        $err.TargetObject.File | Should -Be $missing
    }
}

Describe 'Default views' {
    It 'has a table view for <Type>' -ForEach @(
        @{ Type = 'Bms2Intune.Finding' }, @{ Type = 'Bms2Intune.ImportFile' }, @{ Type = 'Bms2Intune.Wave' },
        @{ Type = 'Bms2Intune.IntuneObject' }, @{ Type = 'Bms2Intune.Artifact' }, @{ Type = 'Bms2Intune.MigrationAction' }
    ) {
        $o = [pscustomobject]@{ PSTypeName = $Type }
        { $o | Format-Table | Out-String } | Should -Not -Throw
        (Get-FormatData -TypeName $Type).FormatViewDefinition.Control.GetType().Name | Should -Be 'TableControl'
    }
}

Describe 'Protocol client' {
    It 'finds the binary through BMS2INTUNE_BIN and says so when it is wrong' {
        $saved = $env:BMS2INTUNE_BIN
        try {
            Remove-Module -Name Bms2Intune -Force
            Import-Module -Name $script:ModuleManifest -Force
            $env:BMS2INTUNE_BIN = Join-Path -Path $TestDrive -ChildPath 'no-such-binary'
            $err = $null
            try { Get-BmsMigrationStatus -Workspace $TestDrive } catch { $err = $_ }
            $err.FullyQualifiedErrorId | Should -BeLike 'module.binary_not_found*'
            $err.Exception.Message | Should -BeLike '*BMS2INTUNE_BIN*'
        } finally {
            $env:BMS2INTUNE_BIN = $saved
        }
    }
    It 'starts one rpc process, reuses it, restarts it when it dies and stops it on Remove-Module' {
        Remove-Module -Name Bms2Intune -Force
        Import-Module -Name $script:ModuleManifest -Force
        $ws = Join-Path -Path $TestDrive -ChildPath 'lifecycle'
        $null = New-Item -ItemType Directory -Path $ws -Force
        Set-Content -LiteralPath (Join-Path -Path $ws -ChildPath 'workspace.json') -Value '{"format":"bms2intune-workspace","version":1}' -Encoding Ascii
        $null = Get-BmsMigrationStatus -Workspace $ws
        $first = InModuleScope Bms2Intune { $script:BmsRpc.Process.Id }
        $null = Get-BmsMigrationStatus -Workspace $ws
        (InModuleScope Bms2Intune { $script:BmsRpc.Process.Id }) | Should -Be $first
        InModuleScope Bms2Intune { $script:BmsRpc.Process.Kill(); $script:BmsRpc.Process.WaitForExit() }
        $status = Get-BmsMigrationStatus -Workspace $ws -WarningAction SilentlyContinue
        $status | Should -Not -BeNullOrEmpty
        $second = InModuleScope Bms2Intune { $script:BmsRpc.Process.Id }
        $second | Should -Not -Be $first
        $process = Get-Process -Id $second
        Remove-Module -Name Bms2Intune -Force
        $process.WaitForExit(10000) | Should -BeTrue
        Import-Module -Name $script:ModuleManifest -Force
    }
    It 'checks the protocol version with hello' {
        $hello = InModuleScope Bms2Intune { $null = Open-BmsRpcSession; $script:BmsRpc }
        $hello.Version | Should -Not -BeNullOrEmpty
        $hello.Commands | Should -Contain 'status'
    }
    It 'turns an error result into a terminating ErrorRecord with the protocol code' {
        $err = $null
        try { Test-BmsMigrationReadiness -Workspace (Join-Path -Path $TestDrive -ChildPath 'no-workspace') } catch { $err = $_ }
        $err | Should -Not -BeNullOrEmpty
        $err.FullyQualifiedErrorId | Should -BeLike 'workspace.*'
        $err.Exception.Data['Code'] | Should -BeLike 'workspace.*'
    }
    It 'never shows a Connect-BmsGraph secret, not even in the verbose stream' {
        # An empty workspace: the binary stops at the missing manifest, before any Graph call.
        $ws = Join-Path -Path $TestDrive -ChildPath 'secret'
        $null = New-Item -ItemType Directory -Path $ws -Force
        Set-Content -LiteralPath (Join-Path -Path $ws -ChildPath 'workspace.json') -Value '{"format":"bms2intune-workspace","version":1}' -Encoding Ascii
        $null = Connect-BmsGraph -TenantId contoso.onmicrosoft.com -ClientId 11111111-2222-3333-4444-555555555555 -ClientSecret (ConvertTo-SecretString -Text 'not-a-real-secret-4711')
        $out = & {
            try {
                Invoke-BmsMigrationStep -Workspace $ws -Step policies -Confirm:$false -Verbose
            } catch {
                $_
            }
        } 4>&1 3>&1 2>&1 | Out-String
        InModuleScope Bms2Intune { $script:BmsGraphAuth = $null }
        $out | Should -Not -Match 'not-a-real-secret-4711'
        $out | Should -Match 'parameters not shown'
        $out | Should -Match 'manifest'
    }
    It 'starts the binary with the single argument rpc (no secret can be on its command line)' {
        $arguments = InModuleScope Bms2Intune { $null = Open-BmsRpcSession; $script:BmsRpc.Process.StartInfo.Arguments }
        $arguments | Should -Be 'rpc'
    }
    It 'sends non-ASCII text as UTF-8 (a workspace path with Zoë Müller)' {
        $ws = Join-Path -Path $TestDrive -ChildPath 'Zoë Müller'
        $null = New-Item -ItemType Directory -Path $ws -Force
        [System.IO.File]::WriteAllText((Join-Path -Path $ws -ChildPath 'workspace.json'), '{"format":"bms2intune-workspace","version":1}')
        $status = Get-BmsMigrationStatus -Workspace $ws
        $status[0].Workspace | Should -Be $ws
    }
}
